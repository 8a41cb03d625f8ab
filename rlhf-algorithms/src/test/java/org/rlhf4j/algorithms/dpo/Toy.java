package org.rlhf4j.algorithms.dpo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.rlhf4j.core.model.Gpt2Config;
import org.rlhf4j.core.tokenizer.Tokenizer;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.EncodedQuery;

/**
 * A synthetic preference task over a tiny vocabulary: prompts of random "word" tokens, chosen responses made of token
 * A repeated, rejected responses of token B repeated, both ending with EOS.
 */
final class Toy {

    /** Vocabulary size. */
    static final int V = 16;
    /** The preferred token. */
    static final int A = 12;
    /** The dispreferred token. */
    static final int B = 13;
    /** EOS (= V − 1, as {@link Gpt2Config#of} sets it). */
    static final int EOS = V - 1;
    /** Prompt tokens are drawn from [0, WORDS). */
    static final int WORDS = 12;
    /** A tiny GPT-2 for this vocabulary. */
    static final Gpt2Config MODEL = Gpt2Config.of(V, 64, 32, 2, 4);

    private Toy() {}

    /**
     * Creates pairs with prompts of 2..8 tokens and responses of 2..5 tokens + EOS (chosen and rejected lengths
     * drawn independently, so batches mix every padding width).
     *
     * @param n number of pairs
     * @param seed seed
     * @param prefix id prefix
     * @return the pairs
     */
    static List<Encoded.Pair> pairs(int n, long seed, String prefix) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<Encoded.Pair> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int[] q = new int[2 + rng.nextInt(7)];
            for (int j = 0; j < q.length; j++) {
                q[j] = rng.nextInt(WORDS);
            }
            out.add(new Encoded.Pair(prefix + i, new EncodedQuery("", q, false), run(A, 2 + rng.nextInt(4)),
                    run(B, 2 + rng.nextInt(4))));
        }
        return out;
    }

    /** {@code len} copies of a token followed by EOS. */
    static int[] run(int token, int len) {
        int[] r = new int[len + 1];
        java.util.Arrays.fill(r, 0, len, token);
        r[len] = EOS;
        return r;
    }

    /** A word-level tokenizer over the toy vocabulary ("t0" .. "t15"; t15 is EOS). */
    static final class ToyTokenizer implements Tokenizer {

        @Override
        public int[] encode(String text) {
            String t = text.strip();
            if (t.isEmpty()) {
                return new int[0];
            }
            String[] words = t.split("\\s+");
            int[] ids = new int[words.length];
            for (int i = 0; i < words.length; i++) {
                if (!words[i].startsWith("t")) {
                    throw new IllegalArgumentException("not a toy token: '" + words[i] + "'");
                }
                ids[i] = Integer.parseInt(words[i].substring(1));
            }
            return ids;
        }

        @Override
        public String decode(int[] ids, boolean skipSpecialTokens) {
            StringBuilder sb = new StringBuilder();
            for (int id : ids) {
                if (skipSpecialTokens && id == EOS) {
                    continue;
                }
                sb.append(sb.length() == 0 ? "" : " ").append('t').append(id);
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

        /** Writes a Hugging Face WordLevel {@code tokenizer.json} for the toy vocabulary. */
        @Override
        public void save(Path dir) throws IOException {
            StringBuilder vocab = new StringBuilder();
            for (int i = 0; i < V; i++) {
                vocab.append(i == 0 ? "" : ",").append("\"t").append(i).append("\":").append(i);
            }
            String json = "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[],"
                    + "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"WhitespaceSplit\"},\"post_processor\":null,"
                    + "\"decoder\":null,\"model\":{\"type\":\"WordLevel\",\"vocab\":{" + vocab + "},\"unk_token\":\"t0\"}}";
            Files.writeString(dir.resolve("tokenizer.json"), json, StandardCharsets.UTF_8);
        }

        @Override
        public void close() {}
    }
}
