package org.rlhf4j.datasets.chat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.rlhf4j.core.tokenizer.ChatMessage;
import org.rlhf4j.core.tokenizer.ChatRenderer;
import org.rlhf4j.core.tokenizer.ChatTemplateException;
import org.rlhf4j.core.tokenizer.Tokenizer;

/** Hand-written chat templates and a character-level tokenizer with ChatML special tokens, for tests. */
public final class ChatToys {

    /** {@code <|im_start|>}. */
    public static final int IM_START = 128;
    /** {@code <|im_end|>}. */
    public static final int IM_END = 129;
    /** {@code <|endoftext|>}, the EOS. */
    public static final int EOS = 130;
    /** Vocabulary size: 128 ASCII characters and three special tokens. */
    public static final int V = 131;

    private static final List<String> SPECIALS = List.of("<|im_start|>", "<|im_end|>", "<|endoftext|>");

    private ChatToys() {}

    /**
     * Qwen2.5's ChatML format without its default system prompt: each message
     * {@code <|im_start|>ROLE\nCONTENT<|im_end|>\n}, and {@code <|im_start|>assistant\n} as the generation prompt.
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

    /** A template that raises, as a Jinja template's {@code raise_exception} does. */
    public static final ChatRenderer FAILING = (messages, gen) -> {
        throw new ChatTemplateException("Conversation roles must alternate user/assistant/user/assistant/...");
    };

    /** A character-level tokenizer: ASCII characters are their code, the three ChatML specials 128..130. */
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
        public void save(Path dir) throws IOException {
            throw new UnsupportedOperationException("test tokenizer");
        }

        @Override
        public void close() {}
    }
}
