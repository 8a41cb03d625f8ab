package org.rlhf4j.algorithms;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.tokenizer.ChatMessage;
import org.rlhf4j.core.tokenizer.ChatRenderer;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.task.TaskConfig;
import org.rlhf4j.datasets.task.TldrTask;

/**
 * Conversational test fixtures: a ChatML renderer (Qwen2.5's format without its default system prompt), a
 * character-level tokenizer with the ChatML special tokens, a tiny GPT-2 for it, and the sample files under
 * {@code src/test/resources/chat}.
 */
public final class ChatFixtures {

    /** {@code <|im_start|>}. */
    public static final int IM_START = 128;
    /** {@code <|im_end|>}. */
    public static final int IM_END = 129;
    /** {@code <|endoftext|>}, the EOS. */
    public static final int EOS = 130;
    /** Vocabulary: 128 ASCII characters and three special tokens. */
    public static final int V = 131;
    /** A tiny GPT-2 over the vocabulary (EOS = V − 1). */
    public static final Gpt2Config MODEL = Gpt2Config.of(V, 256, 32, 1, 2);

    /** A tiny Qwen2-flavoured Llama over the same vocabulary: grouped-query attention (4 heads, 2 KV heads), q/k/v bias. */
    public static final org.rlhf4j.core.model.LlamaConfig LLAMA = org.rlhf4j.core.model.LlamaConfig.of(
            org.rlhf4j.core.model.LlamaFamily.QWEN2, V, 256, 32, 1, 4, 2, 64, EOS, EOS);

    private static final List<String> SPECIALS = List.of("<|im_start|>", "<|im_end|>", "<|endoftext|>");

    private ChatFixtures() {}

    /**
     * ChatML: {@code <|im_start|>ROLE\nCONTENT<|im_end|>\n} per message; {@code <|im_start|>assistant\n} to
     * generate.
     */
    public static final ChatRenderer CHATML = (messages, gen) -> {
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            sb.append("<|im_start|>").append(m.role()).append('\n').append(m.content()).append("<|im_end|>\n");
        }
        if (gen) {
            sb.append("<|im_start|>assistant\n");
        }
        return sb.toString();
    };

    /**
     * Returns a task over the character tokenizer with the ChatML template and generous limits.
     *
     * @return the task
     */
    public static TldrTask task() {
        return TldrTask.builder().setTokenizer(new CharTokenizer()).optChatRenderer(CHATML)
                .optConfig(TaskConfig.builder().setMaxQueryTokens(200).setMaxSftResponseTokens(200)
                        .setMaxRmResponseTokens(200).build()).build();
    }

    /**
     * Returns a sample file.
     *
     * @param name e.g. {@code messages.jsonl}
     * @return its path
     */
    public static Path file(String name) {
        try {
            return Path.of(ChatFixtures.class.getResource("/chat/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** ASCII characters are their code; the three ChatML specials are 128..130. */
    public static final class CharTokenizer implements Tokenizer {

        @Override
        public int[] encode(String text) {
            List<Integer> out = new ArrayList<>();
            int i = 0;
            outer:
            while (i < text.length()) {
                for (int s = 0; s < SPECIALS.size(); s++) {
                    if (text.startsWith(SPECIALS.get(s), i)) {
                        out.add(IM_START + s);
                        i += SPECIALS.get(s).length();
                        continue outer;
                    }
                }
                char c = text.charAt(i++);
                if (c >= 128) {
                    throw new IllegalArgumentException("not ASCII: '" + c + "'");
                }
                out.add((int) c);
            }
            return out.stream().mapToInt(Integer::intValue).toArray();
        }

        @Override
        public String decode(int[] ids, boolean skipSpecialTokens) {
            StringBuilder sb = new StringBuilder();
            for (int id : ids) {
                if (id >= IM_START) {
                    if (!skipSpecialTokens) {
                        sb.append(SPECIALS.get(id - IM_START));
                    }
                } else {
                    sb.append((char) id);
                }
            }
            return sb.toString();
        }

        @Override
        public int vocabSize() {
            return V;
        }

        @Override
        public int eosTokenId() {
            return EOS;
        }

        @Override
        public void save(Path dir) {
            throw new UnsupportedOperationException("test tokenizer");
        }

        @Override
        public void close() {}
    }
}
