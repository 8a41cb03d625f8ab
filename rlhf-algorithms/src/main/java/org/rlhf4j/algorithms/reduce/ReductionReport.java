package org.rlhf4j.algorithms.reduce;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a reduction did: its settings, the codebook, the rows kept per code and every dropped row with its reason.
 * Rows are named by their 1-based input line.
 *
 * @param inputRows rows read
 * @param fraction the fraction asked for
 * @param target rows asked for, round(fraction · inputRows) (at least 1)
 * @param kept rows written; below {@code target} only when fewer distinct rows remain ({@code shortfall})
 * @param embedding how rows were embedded ({@link Embedder#describe()})
 * @param seed the k-means seed
 * @param dedupThreshold the cosine similarity above which two rows of a code are near-duplicates
 * @param codebookSize K used (the asked size, capped by the target and the rows left)
 * @param iterations Lloyd iterations run
 * @param converged whether k-means converged
 * @param inertia the final k-means objective
 * @param codes per code: size, distinct rows, rows kept
 * @param keptLines the lines written, ascending
 * @param contradictory lines dropped because the same prompt and responses appear with both labels
 * @param exactDuplicates lines dropped as exact copies of an earlier row
 * @param nearDuplicates lines dropped as near-duplicates of a row nearer their code
 * @param notSelected rows not chosen by the allocation (distinct rows beyond their code's quota)
 * @param judge the judge's flags, or null without a judge
 */
public record ReductionReport(
        int inputRows,
        double fraction,
        int target,
        int kept,
        String embedding,
        long seed,
        double dedupThreshold,
        int codebookSize,
        int iterations,
        boolean converged,
        double inertia,
        List<Code> codes,
        List<Long> keptLines,
        List<Long> contradictory,
        List<Duplicate> exactDuplicates,
        List<Duplicate> nearDuplicates,
        int notSelected,
        JudgeFlags judge) {

    /**
     * Copies the lists.
     *
     * @param inputRows inputRows
     * @param fraction fraction
     * @param target target
     * @param kept kept
     * @param embedding embedding
     * @param seed seed
     * @param dedupThreshold dedupThreshold
     * @param codebookSize codebookSize
     * @param iterations iterations
     * @param converged converged
     * @param inertia inertia
     * @param codes codes
     * @param keptLines keptLines
     * @param contradictory contradictory
     * @param exactDuplicates exactDuplicates
     * @param nearDuplicates nearDuplicates
     * @param notSelected notSelected
     * @param judge judge
     */
    public ReductionReport {
        codes = List.copyOf(codes);
        keptLines = List.copyOf(keptLines);
        contradictory = List.copyOf(contradictory);
        exactDuplicates = List.copyOf(exactDuplicates);
        nearDuplicates = List.copyOf(nearDuplicates);
    }

    /**
     * One code of the codebook.
     *
     * @param code index
     * @param size rows assigned (after exact duplicates and contradictions were dropped)
     * @param distinct rows left after near-duplicates were dropped (the allocation's a_k)
     * @param kept rows kept (q_k)
     */
    public record Code(int code, int size, int distinct, int kept) {}

    /**
     * A dropped duplicate.
     *
     * @param line the dropped row's line
     * @param of the line of the row it duplicates (kept, or itself a candidate)
     * @param cosine cosine similarity of their embeddings (1 for exact copies)
     */
    public record Duplicate(long line, long of, double cosine) {}

    /**
     * Pairs whose human label a judge reward model strongly disagrees with; reported, never relabelled.
     *
     * @param model the judge's directory or name
     * @param threshold flag when r(chosen) − r(rejected) &lt; −threshold
     * @param scored kept rows scored
     * @param agreement fraction of scored rows with r(chosen) &gt; r(rejected)
     * @param flagged the flagged rows
     */
    public record JudgeFlags(String model, double threshold, int scored, double agreement, List<Flag> flagged) {

        /**
         * Copies the list.
         *
         * @param model model
         * @param threshold threshold
         * @param scored scored
         * @param agreement agreement
         * @param flagged flagged
         */
        public JudgeFlags {
            flagged = List.copyOf(flagged);
        }
    }

    /**
     * One flagged pair.
     *
     * @param line the row's line
     * @param margin the judge's r(chosen) − r(rejected)
     */
    public record Flag(long line, double margin) {}

    /**
     * Returns the report as the JSON object written next to the subset ({@code G.report.json}).
     *
     * @return an ordered map of JSON values
     */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("input_rows", inputRows);
        m.put("fraction", fraction);
        m.put("target", target);
        m.put("kept", kept);
        m.put("shortfall", Math.max(0, target - kept));
        m.put("embedding", embedding);
        m.put("seed", seed);
        m.put("dedup_threshold", dedupThreshold);
        Map<String, Object> cb = new LinkedHashMap<>();
        cb.put("size", codebookSize);
        cb.put("iterations", iterations);
        cb.put("converged", converged);
        cb.put("inertia", inertia);
        cb.put("codes", codes.stream().map(c -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("code", c.code());
            e.put("size", c.size());
            e.put("distinct", c.distinct());
            e.put("kept", c.kept());
            return e;
        }).toList());
        m.put("codebook", cb);
        Map<String, Object> dropped = new LinkedHashMap<>();
        dropped.put("contradictory", Map.of("count", contradictory.size(), "lines", contradictory));
        dropped.put("exact_duplicate", duplicates(exactDuplicates));
        dropped.put("near_duplicate", duplicates(nearDuplicates));
        dropped.put("not_selected", Map.of("count", notSelected));
        m.put("dropped", dropped);
        if (judge != null) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("model", judge.model());
            j.put("threshold", judge.threshold());
            j.put("scored", judge.scored());
            j.put("agreement", judge.agreement());
            j.put("flagged_count", judge.flagged().size());
            j.put("flagged", judge.flagged().stream().map(f -> Map.of("line", f.line(), "margin", f.margin()))
                    .toList());
            m.put("judge", j);
        }
        m.put("kept_lines", keptLines);
        return m;
    }

    private static Map<String, Object> duplicates(List<Duplicate> d) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("count", d.size());
        e.put("rows", d.stream().map(x -> {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("line", x.line());
            r.put("of", x.of());
            r.put("cosine", x.cosine());
            return r;
        }).toList());
        return e;
    }

    /**
     * Returns a copy with judge flags.
     *
     * @param flags the flags
     * @return the report with {@code judge} set
     */
    public ReductionReport withJudge(JudgeFlags flags) {
        return new ReductionReport(inputRows, fraction, target, kept, embedding, seed, dedupThreshold, codebookSize,
                iterations, converged, inertia, codes, keptLines, contradictory, exactDuplicates, nearDuplicates,
                notSelected, flags);
    }
}
