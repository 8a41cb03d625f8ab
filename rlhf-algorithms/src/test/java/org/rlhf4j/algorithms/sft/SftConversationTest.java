package org.rlhf4j.algorithms.sft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.rlhf4j.algorithms.ChatFixtures;
import org.rlhf4j.algorithms.common.OptimizerConfig;
import org.rlhf4j.algorithms.common.TrainingSchedule;
import org.rlhf4j.core.model.Gpt2;
import org.rlhf4j.core.tensor.TensorOps;
import org.rlhf4j.core.tokenizer.ChatMessage;
import org.rlhf4j.datasets.Conversation;
import org.rlhf4j.datasets.source.DataSource;
import org.rlhf4j.datasets.task.Encoded;
import org.rlhf4j.datasets.task.TldrTask;

/** SFT on conversations: loss (and gradient) only on the assistant turns' tokens; training from a TRL messages file. */
class SftConversationTest {

    static final TldrTask TASK = ChatFixtures.task();

    static SftConfig config(int batch, int micro, double epochs, double lr) {
        return SftConfig.builder().setSeed(7)
                .setOptimizer(OptimizerConfig.builder().setLearningRate(lr)
                        .setSchedule(OptimizerConfig.Schedule.CONSTANT).setEps(1e-8).setMaxConsecutiveNonFinite(0).build())
                .setBatchSize(batch).setMicroBatchSize(micro).setEpochs(epochs).setSchedule(TrainingSchedule.of(0, 0))
                .setNumSamples(0).build();
    }

    static Encoded.Sft encode(ChatMessage... messages) {
        return TASK.encodeSft(new Conversation("c", "all", List.of(messages)));
    }

    /** The loss and the gradient of one batch of samples, from the same random model. */
    record LossAndGrad(double loss, float[] grad) {}

    static LossAndGrad lossAndGrad(List<Encoded.Sft> data) {
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 model = Gpt2.random(ChatFixtures.MODEL, m, 5)) {
            SftTrainer t = SftTrainer.builder().setConfig(config(data.size(), data.size(), 1, 1e-3)).setPolicy(model)
                    .setTokenizer(TASK.tokenizer()).setTrainData(data).build();
            model.weights().setRequiresGradient(true);
            int[] idx = new int[data.size()];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = i;
            }
            double nll = t.accumulateGradients(idx, ChatFixtures.EOS);
            long tokens = data.stream().mapToLong(Encoded.Sft::lossTokens).sum();
            List<Float> all = new ArrayList<>();
            try (NDScope scope = new NDScope()) {
                for (NDArray p : model.weights().arrays()) {
                    for (float f : p.getGradient().toFloatArray()) {
                        all.add(f);
                    }
                }
            }
            float[] g = new float[all.size()];
            for (int i = 0; i < g.length; i++) {
                g[i] = all.get(i);
            }
            return new LossAndGrad(nll / tokens, g);
        }
    }

    static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    @Test
    void tokensAfterTheLastAssistantTurnGetNoGradient() {
        // a trailing user turn is masked: with causal attention no assistant token sees it, so changing it must leave
        // loss and gradient untouched, and it does only because its tokens carry no loss
        Encoded.Sft a = encode(ChatMessage.user("Hi"), ChatMessage.assistant("Hello there."), ChatMessage.user("Bye"));
        Encoded.Sft b = encode(ChatMessage.user("Hi"), ChatMessage.assistant("Hello there."),
                ChatMessage.user("Something else entirely, and much longer."));
        Encoded.Sft c = encode(ChatMessage.user("Hi"), ChatMessage.assistant("Hello there."), ChatMessage.user("Yes"));
        LossAndGrad la = lossAndGrad(List.of(a, c));
        LossAndGrad lb = lossAndGrad(List.of(b, c));
        // (float32 round-off only: the longer trailing turn widens the padded batch)
        System.out.printf("masked trailing turn: |dloss| %.2e, max |dgrad| %.2e%n", Math.abs(la.loss() - lb.loss()),
                maxDiff(la.grad(), lb.grad()));
        assertThat(lb.loss()).isCloseTo(la.loss(), within(1e-5));
        assertThat(maxDiff(la.grad(), lb.grad())).isLessThan(1e-5);
        // the same ids without the mask: the trailing user tokens now carry loss and change the gradient
        LossAndGrad unmasked = lossAndGrad(List.of(new Encoded.Sft("u", a.query(), a.response()), c));
        LossAndGrad unmaskedB = lossAndGrad(List.of(new Encoded.Sft("u", b.query(), b.response()), c));
        System.out.printf("unmasked trailing turn: max |dgrad| %.2e%n", maxDiff(unmasked.grad(), unmaskedB.grad()));
        assertThat(maxDiff(unmasked.grad(), unmaskedB.grad())).isGreaterThan(1e-3);
    }

    @Test
    void lossIsTheMeanNllOfExactlyTheAssistantTokens() {
        Encoded.Sft s = encode(ChatMessage.user("a"), ChatMessage.assistant("bc"), ChatMessage.user("d"),
                ChatMessage.assistant("e"));
        // response: "bc<|im_end|>\n" (4, trained) + "<|im_start|>user\nd<|im_end|>\n" (9) + "<|im_start|>assistant\n"
        // (11) + "e<|im_end|>\n" (3, trained): by hand, response positions 0-3 and 24-26
        int[] trained = {0, 1, 2, 3, 24, 25, 26};
        assertThat(s.response()).hasSize(27);
        assertThat(s.lossTokens()).isEqualTo(trained.length);
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 model = Gpt2.random(ChatFixtures.MODEL, m, 11)) {
            SftTrainer t = SftTrainer.builder().setConfig(config(1, 1, 1, 1e-3)).setPolicy(model)
                    .setTokenizer(TASK.tokenizer()).setTrainData(List.of(s)).optEvalData(List.of(s)).build();
            double loss = t.evaluate(0).loss();
            // independently: one unpadded forward over the whole conversation
            int q = s.query().length();
            long[] ids = new long[q + s.response().length];
            for (int i = 0; i < q; i++) {
                ids[i] = s.query().ids()[i];
            }
            for (int j = 0; j < s.response().length; j++) {
                ids[q + j] = s.response()[j];
            }
            try (NDManager sub = m.newSubManager()) {
                NDArray x = sub.create(new long[][] {ids});
                NDArray mask = sub.ones(x.getShape());
                float[] lp = TensorOps.sequenceLogprobs(model.logits(model.hidden(x, mask, null)), x).toFloatArray();
                double sum = 0;
                for (int j : trained) {
                    sum += lp[q + j - 1]; // response token j sits at q + j, predicted from position q + j - 1
                }
                assertThat(loss).isCloseTo(-sum / trained.length, within(1e-5));
                double all = 0;
                for (int j = 0; j < s.response().length; j++) {
                    all += lp[q + j - 1];
                }
                assertThat(Math.abs(loss + all / s.response().length)).isGreaterThan(1e-3);
            }
        }
    }

    @Test
    void trainsFromATrlMessagesFile() throws IOException {
        List<Encoded.Sft> data = DataSource.parse(ChatFixtures.file("messages.jsonl").toString()).sft(TASK, "train")
                .rows();
        assertThat(data).hasSize(8);
        assertThat(data.get(0).lossMask()).contains(0); // two assistant turns with a user turn between them
        assertThat(TASK.tokenizer().decode(data.get(1).response())).isEqualTo("An apple.<|im_end|>\n");
        try (NDManager m = NDManager.newBaseManager();
                Gpt2 model = Gpt2.random(ChatFixtures.MODEL, m, 3)) {
            SftTrainer t = SftTrainer.builder().setConfig(config(4, 2, 3, 1e-2)).setPolicy(model)
                    .setTokenizer(TASK.tokenizer()).setTrainData(data).optEvalData(data).build();
            double before = t.evaluate(0).loss();
            SftTrainer.Result r = t.train();
            double after = t.evaluate(r.steps()).loss();
            System.out.printf("SFT on messages.jsonl (6 updates): assistant-token NLL %.3f -> %.3f%n", before, after);
            assertThat(r.steps()).isEqualTo(6);
            assertThat(after).isLessThan(before - 0.5);
        }
    }

    @Test
    void aLlamaTrainsFromATrlMessagesFileOnAssistantTokensOnly() throws IOException {
        List<Encoded.Sft> data = DataSource.parse(ChatFixtures.file("messages.jsonl").toString()).sft(TASK, "train")
                .rows();
        try (NDManager m = NDManager.newBaseManager();
                org.rlhf4j.core.model.CausalLm model = org.rlhf4j.core.model.CausalLm.random(ChatFixtures.LLAMA, m, 3)) {
            SftTrainer t = SftTrainer.builder().setConfig(config(4, 2, 3, 1e-2)).setPolicy(model)
                    .setTokenizer(TASK.tokenizer()).setTrainData(data).optEvalData(data).build();
            double before = t.evaluate(0).loss();
            SftTrainer.Result r = t.train();
            double after = t.evaluate(r.steps()).loss();
            System.out.printf("SFT of a tiny Qwen2 on messages.jsonl (6 updates): assistant-token NLL %.3f -> %.3f%n",
                    before, after);
            assertThat(r.steps()).isEqualTo(6);
            assertThat(after).isLessThan(before - 0.5);
        }
    }
}
