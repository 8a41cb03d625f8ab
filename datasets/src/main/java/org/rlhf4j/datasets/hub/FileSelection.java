package org.rlhf4j.datasets.hub;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which files of a repository to download.
 *
 * <p>A path is selected when it is a default file (and defaults are on) or matches an include glob, and matches no
 * exclude glob. The defaults are what a causal LM needs, at the repository root only: {@link #DEFAULT_NAMES}, every
 * {@code *.safetensors}, and README, LICENSE/LICENCE, NOTICE and USE_POLICY files (any extension). Nothing else:
 * PyTorch {@code .bin}/{@code .pt}, TensorFlow {@code .h5}, Flax {@code .msgpack}, ONNX, GGUF, subfolders, training
 * state. Globs follow Python's {@code fnmatch} on the whole path, as huggingface_hub's {@code allow_patterns} do
 * ({@code utils/_paths.py filter_repo_objects}): {@code *} matches any characters including {@code /}, {@code ?}
 * one character, {@code [abc]}/{@code [!abc]} a set; a pattern ending in {@code /} matches everything under that
 * folder. So {@code --include "*.bin"} adds every {@code .bin} file and {@code --include "onnx/"} the folder.
 */
public final class FileSelection {

    /** The root-level files selected by default besides weights and README/LICENSE files. */
    public static final Set<String> DEFAULT_NAMES = Set.of(
            "config.json", "generation_config.json", "model.safetensors.index.json",
            "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
            "chat_template.jinja", "chat_template.json",
            "tokenizer.model", "spiece.model", "sentencepiece.bpe.model",
            "vocab.json", "vocab.txt", "merges.txt");

    private static final List<String> DOC_PREFIXES = List.of("readme", "license", "licence", "notice", "use_policy");

    private final boolean defaults;
    private final List<String> includes;
    private final List<String> excludes;
    private final List<Pattern> includePatterns;
    private final List<Pattern> excludePatterns;

    private FileSelection(Builder b) {
        this.defaults = b.defaults;
        this.includes = List.copyOf(b.includes);
        this.excludes = List.copyOf(b.excludes);
        this.includePatterns = includes.stream().map(FileSelection::globToRegex).toList();
        this.excludePatterns = excludes.stream().map(FileSelection::globToRegex).toList();
    }

    /**
     * Returns the default selection (what a causal LM needs, no includes or excludes).
     *
     * @return the selection
     */
    public static FileSelection defaults() {
        return builder().build();
    }

    /**
     * Returns a builder (defaults on, no includes or excludes).
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Options of a {@link FileSelection}. */
    public static final class Builder {
        private boolean defaults = true;
        private final List<String> includes = new ArrayList<>();
        private final List<String> excludes = new ArrayList<>();

        private Builder() {}

        /**
         * Sets whether the default files are selected (off: only the include globs select).
         *
         * @param on true to keep the defaults
         * @return this
         */
        public Builder optDefaults(boolean on) {
            this.defaults = on;
            return this;
        }

        /**
         * Adds an include glob.
         *
         * @param glob an fnmatch pattern on the whole path
         * @return this
         */
        public Builder addInclude(String glob) {
            includes.add(checkGlob(glob));
            return this;
        }

        /**
         * Adds an exclude glob (it wins over defaults and includes).
         *
         * @param glob an fnmatch pattern on the whole path
         * @return this
         */
        public Builder addExclude(String glob) {
            excludes.add(checkGlob(glob));
            return this;
        }

        /**
         * Builds the selection.
         *
         * @return the selection
         */
        public FileSelection build() {
            return new FileSelection(this);
        }
    }

    /**
     * Returns whether a path is selected.
     *
     * @param path the path inside the repository
     * @return true to download it
     */
    public boolean selects(String path) {
        boolean in = defaults && isDefaultFile(path) || matchesAny(includePatterns, path);
        return in && !matchesAny(excludePatterns, path);
    }

    /**
     * Returns whether an include glob names a path explicitly (not through the defaults).
     *
     * @param path the path
     * @return true when an include glob matches it
     */
    public boolean explicitlyIncludes(String path) {
        return matchesAny(includePatterns, path);
    }

    /**
     * Returns whether the defaults are on.
     *
     * @return true when the default files are selected
     */
    public boolean usesDefaults() {
        return defaults;
    }

    /**
     * Returns whether anything differs from {@link #defaults()}.
     *
     * @return true with includes, excludes or the defaults off
     */
    public boolean isCustomised() {
        return !defaults || !includes.isEmpty() || !excludes.isEmpty();
    }

    /**
     * Returns the include globs.
     *
     * @return the globs, in the order given
     */
    public List<String> includes() {
        return includes;
    }

    /**
     * Returns the exclude globs.
     *
     * @return the globs, in the order given
     */
    public List<String> excludes() {
        return excludes;
    }

    /**
     * Returns whether a path is one of the default files.
     *
     * @param path the path inside the repository
     * @return true for root-level config, tokenizer, safetensors and README/LICENSE files
     */
    public static boolean isDefaultFile(String path) {
        if (path.indexOf('/') >= 0) {
            return false;
        }
        if (DEFAULT_NAMES.contains(path) || path.endsWith(".safetensors")) {
            return true;
        }
        String lower = path.toLowerCase(Locale.ROOT);
        return DOC_PREFIXES.stream().anyMatch(lower::startsWith);
    }

    /**
     * Names the weight format of a file rlhf4j cannot read, if it is one.
     *
     * @param path the path inside the repository
     * @return e.g. {@code PyTorch .bin} for {@code pytorch_model-00001-of-00002.bin}; empty for other files (also for
     *     training state such as {@code training_args.bin} or {@code optimizer.pt})
     */
    public static Optional<String> otherWeightFormat(String path) {
        String name = path.substring(path.lastIndexOf('/') + 1).toLowerCase(Locale.ROOT);
        if (name.startsWith("training_") || name.startsWith("optimizer") || name.startsWith("scheduler")
                || name.startsWith("rng_state")) {
            return Optional.empty();
        }
        if (name.endsWith(".bin") && (name.startsWith("pytorch_model") || name.startsWith("model"))) {
            return Optional.of("PyTorch .bin");
        }
        if (name.endsWith(".pt") || name.endsWith(".pth")) {
            return Optional.of("PyTorch .pt/.pth");
        }
        if (name.endsWith(".h5")) {
            return Optional.of("TensorFlow .h5");
        }
        if (name.endsWith(".msgpack")) {
            return Optional.of("Flax .msgpack");
        }
        if (name.endsWith(".gguf")) {
            return Optional.of("GGUF");
        }
        if (name.endsWith(".onnx")) {
            return Optional.of("ONNX");
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return "FileSelection[defaults=" + defaults + ", include=" + includes + ", exclude=" + excludes + "]";
    }

    private static boolean matchesAny(List<Pattern> patterns, String path) {
        for (Pattern p : patterns) {
            if (p.matcher(path).matches()) {
                return true;
            }
        }
        return false;
    }

    private static String checkGlob(String glob) {
        Objects.requireNonNull(glob, "glob");
        if (glob.isBlank()) {
            throw new IllegalArgumentException("glob must not be blank, got '" + glob + "'");
        }
        globToRegex(glob);
        return glob;
    }

    /**
     * Translates an fnmatch pattern to a regular expression (Python's {@code fnmatch.translate}: {@code *} any
     * characters, {@code ?} one, {@code [...]} a set with {@code !} for negation, a {@code ]} first in a set is
     * literal, an unclosed {@code [} is literal); a trailing {@code /} becomes {@code /*} as in
     * huggingface_hub's {@code filter_repo_objects}.
     */
    static Pattern globToRegex(String glob) {
        String g = glob.endsWith("/") ? glob + "*" : glob;
        StringBuilder re = new StringBuilder();
        int i = 0;
        int n = g.length();
        while (i < n) {
            char c = g.charAt(i++);
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                case '[' -> {
                    int j = i;
                    if (j < n && g.charAt(j) == '!') {
                        j++;
                    }
                    if (j < n && g.charAt(j) == ']') {
                        j++;
                    }
                    while (j < n && g.charAt(j) != ']') {
                        j++;
                    }
                    if (j >= n) {
                        re.append("\\[");
                    } else {
                        String set = g.substring(i, j);
                        i = j + 1;
                        StringBuilder cls = new StringBuilder("[");
                        int k = 0;
                        if (set.startsWith("!")) {
                            cls.append('^');
                            k = 1;
                        }
                        for (; k < set.length(); k++) {
                            char s = set.charAt(k);
                            if (s == '-') {
                                cls.append('-');
                            } else if (Character.isLetterOrDigit(s)) {
                                cls.append(s);
                            } else {
                                cls.append('\\').append(s);
                            }
                        }
                        re.append(cls).append(']');
                    }
                }
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        try {
            return Pattern.compile(re.toString(), Pattern.DOTALL);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new IllegalArgumentException("bad glob '" + glob + "': " + e.getDescription(), e);
        }
    }
}
