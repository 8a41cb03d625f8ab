package org.rlhf4j.algorithms.dpo;

/**
 * The DPO loss variants. Each is a function of the implicit reward margin
 * h = β·[(log π_θ(y_w|x) − log π_ref(y_w|x)) − (log π_θ(y_l|x) − log π_ref(y_l|x))] with summed response
 * log-probabilities; {@link DpoLosses#losses} gives the formulas and their sources.
 */
public enum DpoLossType {
    /**
     * DPO's Bradley–Terry loss −log σ(h) (Rafailov et al. 2023, eq. 7), with label smoothing ε the conservative cDPO
     * loss −(1−ε)·log σ(h) − ε·log σ(−h) (Mitchell 2023); TRL {@code loss_type="sigmoid"}.
     */
    SIGMOID,
    /**
     * IPO's squared loss (h/β − 1/(2β))² (Azar et al. 2023, eq. 17): regresses the log-ratio difference to the
     * finite target 1/(2β) instead of pushing it to infinity; TRL {@code loss_type="ipo"}.
     */
    IPO,
    /** The hinge loss max(0, 1 − h) of SLiC (Zhao et al. 2023); TRL {@code loss_type="hinge"}. */
    HINGE,
    /**
     * Robust DPO (Chowdhury et al. 2024, "Provably Robust DPO"): the unbiased loss under a label-flip rate ε,
     * [−(1−ε)·log σ(h) + ε·log σ(−h)] / (1 − 2ε); TRL {@code loss_type="robust"}.
     */
    ROBUST
}
