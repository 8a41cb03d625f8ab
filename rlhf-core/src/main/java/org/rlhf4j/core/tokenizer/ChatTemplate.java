package org.rlhf4j.core.tokenizer;

import java.nio.file.Path;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.rlhf4j.core.io.ModelFormatException;
import org.rlhf4j.core.tokenizer.JinjaValues.Fn;
import org.rlhf4j.core.tokenizer.JinjaValues.Namespace;

/**
 * A Hugging Face chat template (Jinja) rendered in Java exactly as transformers'
 * {@code tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=...)} renders it.
 *
 * <p>transformers compiles the template with jinja2's {@code ImmutableSandboxedEnvironment(trim_blocks=True,
 * lstrip_blocks=True, extensions=[AssistantTracker, loopcontrols])}, a {@code tojson} filter that is
 * {@code json.dumps(x, ensure_ascii=False, indent, separators, sort_keys)}, and the globals
 * {@code raise_exception(msg)} and {@code strftime_now(fmt)} ({@code utils/chat_template_utils.py},
 * {@code _cached_compile_jinja_template}); it renders with {@code messages}, {@code tools=None},
 * {@code documents=None}, {@code add_generation_prompt} and the tokenizer's named special tokens
 * ({@code bos_token}, {@code eos_token}, ...; extra keyword arguments override them). This class reimplements that
 * environment (docs/decisions/0015-chat-template-engine.md; docs/chat.md lists the supported Jinja).
 *
 * <pre>{@code
 * ChatTemplate t = ChatTemplate.load(Path.of("models/Qwen2.5-0.5B-Instruct"));
 * String prompt = t.render(List.of(ChatMessage.user("Hi")), true);
 * }</pre>
 */
public final class ChatTemplate implements GenerationSpanRenderer {

    private final String template;
    private final List<JinjaParser.Node> program;
    private final Map<String, Object> variables;
    private final Clock clock;

    private ChatTemplate(Builder b) {
        this.template = b.template;
        this.program = JinjaParser.parse(b.template);
        this.variables = java.util.Collections.unmodifiableMap(new HashMap<>(b.variables));
        this.clock = b.clock;
    }

    /**
     * Returns a builder.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Loads the default chat template of a model directory ({@code chat_template.jinja}, else
     * {@code tokenizer_config.json}'s {@code chat_template}: a string, or the entry named {@code default} of a list)
     * with the directory's special tokens.
     *
     * @param dir the model directory
     * @return the template
     * @throws ModelFormatException when the directory has no chat template, or a file is malformed
     * @throws ChatTemplateException when the template has a syntax error
     */
    public static ChatTemplate load(Path dir) throws ModelFormatException {
        return load(dir, "default");
    }

    /**
     * Loads one named chat template of a model directory with the directory's special tokens.
     *
     * @param dir the model directory
     * @param name the template name ({@code default}, or e.g. {@code tool_use})
     * @return the template
     * @throws ModelFormatException when the directory has no such template, or a file is malformed
     * @throws ChatTemplateException when the template has a syntax error
     */
    public static ChatTemplate load(Path dir, String name) throws ModelFormatException {
        TokenizerConfig cfg = TokenizerConfig.read(dir);
        String text = cfg.chatTemplates().get(name);
        if (text == null) {
            Path where = dir.resolve(TokenizerConfig.CONFIG_FILE);
            if (cfg.chatTemplates().isEmpty()) {
                throw new ModelFormatException(where, "no chat template: neither a 'chat_template' field nor a "
                        + TokenizerConfig.CHAT_TEMPLATE_FILE + " beside it (base models often have none; pass one "
                        + "with ChatTemplate.builder().setTemplate(...))");
            }
            throw new ModelFormatException(where, "no chat template named '" + name + "' (has "
                    + new java.util.TreeSet<>(cfg.chatTemplates().keySet()) + ")");
        }
        return builder().setTemplate(text).optSpecialTokens(cfg.specialTokens()).build();
    }

    /**
     * Returns the template text.
     *
     * @return the Jinja source
     */
    public String template() {
        return template;
    }

    /** {@inheritDoc} */
    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /**
     * Renders a conversation with extra template variables (transformers' {@code **kwargs} of
     * {@code apply_chat_template}, e.g. {@code enable_thinking=false} for Qwen3 or {@code date_string} for Llama 3).
     *
     * @param messages the messages
     * @param addGenerationPrompt whether to end with the header of an assistant turn
     * @param extra extra variables (strings, numbers, booleans, null, lists and maps of them); they override the
     *     special tokens and the builder's variables
     * @return the rendered text
     * @throws ChatTemplateException when the template raises an error (its message is kept)
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> extra) {
        return run(messages, addGenerationPrompt, extra).text();
    }

    /**
     * Renders a conversation and returns the character ranges of the template's {@code {% generation %}} blocks
     * (transformers' {@code return_assistant_tokens_mask}: {@code AssistantTracker._generation_support} records
     * {@code (len(output so far), + len(block))}); a template without such blocks gives none. Ranges are Java
     * {@code char} indices (transformers reports Python code points; they differ after astral characters such as
     * emoji).
     *
     * @param messages the messages
     * @param addGenerationPrompt whether to end with the header of an assistant turn
     * @return the text and the spans
     * @throws ChatTemplateException when the template raises an error
     */
    @Override
    public Rendered renderWithGenerationSpans(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return run(messages, addGenerationPrompt, Map.of());
    }

    /**
     * Renders a conversation with extra variables and returns the {@code {% generation %}} spans.
     *
     * @param messages the messages
     * @param addGenerationPrompt whether to end with the header of an assistant turn
     * @param extra extra variables
     * @return the text and the spans
     * @throws ChatTemplateException when the template raises an error
     */
    public Rendered renderWithGenerationSpans(List<ChatMessage> messages, boolean addGenerationPrompt,
            Map<String, ?> extra) {
        return run(messages, addGenerationPrompt, extra);
    }

    /**
     * Whether the template marks assistant output with {@code {% generation %}} (the regex transformers checks
     * before computing an assistant mask).
     *
     * @return true when it does
     */
    public boolean hasGenerationBlocks() {
        return java.util.regex.Pattern.compile("\\{%-?\\s*generation\\s*-?%}").matcher(template).find();
    }

    private Rendered run(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> extra) {
        Objects.requireNonNull(messages, "messages");
        Map<String, Object> globals = new HashMap<>();
        globals.put("range", (Fn) ChatTemplate::range);
        globals.put("namespace", (Fn) (args, kw) -> {
            Namespace ns = new Namespace();
            for (Object a : args) {
                if (a instanceof Map<?, ?> m) {
                    m.forEach((k, v) -> ns.attrs.put(JinjaValues.str(k), v));
                }
            }
            ns.attrs.putAll(kw);
            return ns;
        });
        globals.put("dict", (Fn) (args, kw) -> {
            Map<Object, Object> d = new LinkedHashMap<>();
            for (Object a : args) {
                if (a instanceof Map<?, ?> m) {
                    d.putAll(m);
                }
            }
            d.putAll(kw);
            return d;
        });
        globals.put("raise_exception", (Fn) (args, kw) -> {
            // transformers: raise jinja2.exceptions.TemplateError(message)
            throw new ChatTemplateException(args.isEmpty() ? "" : JinjaValues.str(args.get(0)));
        });
        globals.put("strftime_now", (Fn) (args, kw) -> strftime(JinjaValues.str(args.get(0)),
                ZonedDateTime.now(clock)));
        globals.putAll(variables);
        List<Object> msgs = new ArrayList<>();
        for (ChatMessage m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            msgs.add(map);
        }
        globals.put("messages", msgs);
        globals.put("tools", null);
        globals.put("documents", null);
        globals.put("add_generation_prompt", addGenerationPrompt);
        for (Map.Entry<String, ?> e : extra.entrySet()) {
            globals.put(e.getKey(), toValue(e.getValue()));
        }
        JinjaInterpreter interpreter = new JinjaInterpreter(globals);
        String text;
        try {
            text = interpreter.render(program);
        } catch (ChatTemplateException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ChatTemplateException("chat template failed: " + e, e);
        }
        List<Span> spans = new ArrayList<>();
        for (int[] s : interpreter.spans()) {
            spans.add(new Span(s[0], s[1]));
        }
        return new Rendered(text, spans);
    }

    private static Object range(List<Object> args, Map<String, Object> kw) {
        long start = 0;
        long stop;
        long step = 1;
        if (args.size() == 1) {
            stop = JinjaValues.toLong(args.get(0));
        } else if (args.size() >= 2) {
            start = JinjaValues.toLong(args.get(0));
            stop = JinjaValues.toLong(args.get(1));
            if (args.size() > 2) {
                step = JinjaValues.toLong(args.get(2));
            }
        } else {
            throw new ChatTemplateException("range expected at least 1 argument, got 0");
        }
        if (step == 0) {
            throw new ChatTemplateException("range() arg 3 must not be zero");
        }
        List<Object> out = new ArrayList<>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
            out.add(i);
            if (out.size() > 100_000) { // jinja2 sandbox MAX_RANGE
                throw new ChatTemplateException("range too big, maximum size for range is 100000");
            }
        }
        return out;
    }

    /** Java values to template values: ints to long, floats to double, maps and lists copied, records refused. */
    static Object toValue(Object v) {
        if (v == null || v instanceof String || v instanceof Boolean || v instanceof Long || v instanceof Double) {
            return v;
        }
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof Float f) {
            return (double) f;
        }
        if (v instanceof ChatMessage m) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            return map;
        }
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(toValue(k), toValue(x)));
            return out;
        }
        if (v instanceof Iterable<?> it) {
            List<Object> out = new ArrayList<>();
            it.forEach(x -> out.add(toValue(x)));
            return out;
        }
        throw new IllegalArgumentException("unsupported template variable type " + v.getClass().getName()
                + " (use strings, numbers, booleans, null, lists and maps)");
    }

    /**
     * Python's {@code datetime.strftime} for the directives chat templates use ({@code %d %b %B %Y %y %m %H %M %S %I
     * %p %a %A %j %e %%} and glibc's {@code %-d}-style no-padding).
     */
    static String strftime(String fmt, ZonedDateTime t) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < fmt.length(); i++) {
            char c = fmt.charAt(i);
            if (c != '%' || i + 1 >= fmt.length()) {
                sb.append(c);
                continue;
            }
            char d = fmt.charAt(++i);
            boolean noPad = false;
            if (d == '-' && i + 1 < fmt.length()) {
                noPad = true;
                d = fmt.charAt(++i);
            }
            String two = noPad ? "%d" : "%02d";
            switch (d) {
                case 'd' -> sb.append(String.format(two, t.getDayOfMonth()));
                case 'e' -> sb.append(String.format("%2d", t.getDayOfMonth()));
                case 'm' -> sb.append(String.format(two, t.getMonthValue()));
                case 'Y' -> sb.append(t.getYear());
                case 'y' -> sb.append(String.format(two, t.getYear() % 100));
                case 'H' -> sb.append(String.format(two, t.getHour()));
                case 'I' -> sb.append(String.format(two, (t.getHour() + 11) % 12 + 1));
                case 'M' -> sb.append(String.format(two, t.getMinute()));
                case 'S' -> sb.append(String.format(two, t.getSecond()));
                case 'p' -> sb.append(t.getHour() < 12 ? "AM" : "PM");
                case 'j' -> sb.append(String.format(noPad ? "%d" : "%03d", t.getDayOfYear()));
                case 'b', 'h' -> sb.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'B' -> sb.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case '%' -> sb.append('%');
                default -> throw new ChatTemplateException("strftime_now: unsupported directive '%" + d + "'");
            }
        }
        return sb.toString();
    }

    /** Builds a {@link ChatTemplate}: the template is required; special tokens, variables and clock are optional. */
    public static final class Builder {
        private String template;
        private final Map<String, Object> variables = new HashMap<>();
        private Clock clock = Clock.systemDefaultZone();

        private Builder() {}

        /**
         * Sets the Jinja source (required).
         *
         * @param template the template text
         * @return this builder
         */
        public Builder setTemplate(String template) {
            this.template = Objects.requireNonNull(template, "template");
            return this;
        }

        /**
         * Sets the special-token variables ({@code bos_token}, {@code eos_token}, ...), e.g.
         * {@link TokenizerConfig#specialTokens()}.
         *
         * @param tokens name to token text
         * @return this builder
         */
        public Builder optSpecialTokens(Map<String, String> tokens) {
            variables.putAll(tokens);
            return this;
        }

        /**
         * Sets one template variable for every render (e.g. {@code date_string}).
         *
         * @param name the variable name
         * @param value a string, number, boolean, null, or list/map of them
         * @return this builder
         */
        public Builder optVariable(String name, Object value) {
            variables.put(Objects.requireNonNull(name, "name"), toValue(value));
            return this;
        }

        /**
         * Sets the clock {@code strftime_now} reads (default: the system clock in the default time zone, as Python's
         * {@code datetime.now()}).
         *
         * @param clock the clock
         * @return this builder
         */
        public Builder optClock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Parses the template.
         *
         * @return the template
         * @throws IllegalArgumentException when no template was set
         * @throws ChatTemplateException when the template has a syntax error
         */
        public ChatTemplate build() {
            if (template == null) {
                throw new IllegalArgumentException("setTemplate(...) is required");
            }
            return new ChatTemplate(this);
        }
    }
}
