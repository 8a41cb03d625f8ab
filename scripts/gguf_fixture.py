#!/usr/bin/env python3
"""Regenerates rlhf-core/src/test/resources/gguf-fixtures/ (read by the tests of org.rlhf4j.core.gguf).

Writes tiny llama GGUF files with the `gguf` package and records what transformers makes of them:

* tiny-gpt2tok-{f32,f16,bf16,q8_0,q4_0,q4_1}.gguf: one random 2-layer llama (hidden 32, 4 heads, 2 KV heads, untied
  output) whose tokenizer is a byte-level BPE (tokenizer.ggml.model "gpt2", pre "llama-bpe") trained here with the
  `tokenizers` package, with the 2-D tensors stored in each type (norms stay F32, as llama.cpp keeps them);
* tiny-spm-f32.gguf: a tied-embedding llama whose tokenizer is a SentencePiece BPE with byte fallback
  (tokenizer.ggml.model "llama") trained here with `sentencepiece`;
* dequant.gguf: raw random-but-valid blocks of every supported type (K-quants included, finite f16 scales).

For every model file, <name>.expected.json holds transformers' view after its own GGUF load
(AutoModelForCausalLM / AutoTokenizer.from_pretrained(dir, gguf_file=...)): config fields, each state-dict tensor's
shape, SHA-256 of its fp32 little-endian bytes, sum and first values, and token ids of test strings with and
without special tokens. llama-next-token-logits.json holds the next-token logits (last position) of every model for
fixed id sequences, for a logits test once the Llama model exists. dequant.expected.json holds gguf.dequantize's
output as float32 bit patterns.

Usage: .venv-ref/bin/python scripts/gguf_fixture.py [OUT_DIR]
       .venv-ref/bin/python scripts/gguf_fixture.py check GGUF IMPORTED_DIR   (compare an `rlhf4j model import-gguf`
       directory with transformers' GGUF load: tensors, logits, token ids, chat template)
"""
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import gguf
from gguf import GGMLQuantizationType as Q

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "rlhf-core/src/test/resources/gguf-fixtures"

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello world! Hello there, how are you doing today?",
    "I don't think we'll make it; they're late and it's raining.",
    "Numbers like 12345 and 3.14159 appear in text, 2024-06-01 too.",
    "Reinforcement learning from human feedback trains a reward model.",
    "def main():\n    print('hello')\n    return 0\n",
    "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00fcber stra\u00dfe",
    "The policy is optimised against the reward with a KL penalty.",
    "    indented line\n\nblank lines\ttabs",
] * 20

TEST_STRINGS = [
    "Hello world",
    " leading space and  double  spaces",
    "The quick brown fox jumps over the lazy dog.",
    "don't stop, we're 12345 units in",
    "line one\nline two\n\n  indented\ttab",
    "Caf\u00e9 \u00fcber \u65e5\u672c\u8a9e \u2713 \U0001F600",
    "<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n",
    "unseenwordxyz qqq",
    "",
]

CHAT_TEMPLATE = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] "
                 "+ '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
                 "{% endif %}")

LOGIT_IDS = [[1, 5, 9, 42, 77, 100], [3, 250, 17]]


def sha(t: torch.Tensor) -> str:
    return hashlib.sha256(t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()).hexdigest()


def permute(w: np.ndarray, n_head: int, n_head_kv: int) -> np.ndarray:
    """llama.cpp convert_hf_to_gguf.py LlamaModel.permute: HF rotary layout -> llama.cpp's interleaved one."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def gpt2_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers, decoders
    specials = ["<|endoftext|>", "<|begin_of_text|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=330, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    spec = json.loads(tok.to_str())
    vocab = spec["model"]["vocab"]
    tokens = [None] * len(vocab)
    for t, i in vocab.items():
        tokens[i] = t
    merges = [m if isinstance(m, str) else " ".join(m) for m in spec["model"]["merges"]]
    types = [3 if t in specials else 1 for t in tokens]
    return dict(model="gpt2", pre="llama-bpe", tokens=tokens, merges=merges, types=types,
                bos=tokens.index("<|begin_of_text|>"), eos=tokens.index("<|endoftext|>"),
                pad=tokens.index("<|endoftext|>"), add_bos=True)


def spm_tokenizer(tmp: Path):
    import sentencepiece as spm
    corpus = tmp / "corpus.txt"
    corpus.write_text("\n".join(CORPUS), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(tmp / "spm"), vocab_size=360, model_type="bpe", byte_fallback=True,
        character_coverage=1.0, user_defined_symbols=["<|im_start|>", "<|im_end|>"], bos_id=1, eos_id=2, unk_id=0,
        pad_id=-1, minloglevel=2)
    sp = spm.SentencePieceProcessor(model_file=str(tmp / "spm.model"))
    tokens, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        # llama.cpp convert_hf_to_gguf.py _create_vocab_sentencepiece
        t = 1
        if sp.is_unknown(i):
            t = 2
        elif sp.is_control(i):
            t = 3
        elif sp.is_unused(i):
            t = 5
        elif sp.is_byte(i):
            t = 6
        elif tokens[-1] in ("<|im_start|>", "<|im_end|>"):
            t = 4
        types.append(t)
    return dict(model="llama", pre="default", tokens=tokens, scores=scores, types=types, bos=1, eos=2, unk=0,
                add_bos=True, add_eos=False)


def random_llama(vocab: int, tied: bool, seed: int, arch: str = "llama"):
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM, Qwen3Config, \
        Qwen3ForCausalLM
    config_class, model_class = {"llama": (LlamaConfig, LlamaForCausalLM), "qwen2": (Qwen2Config, Qwen2ForCausalLM),
                                 "qwen3": (Qwen3Config, Qwen3ForCausalLM)}[arch]
    torch.manual_seed(seed)
    cfg = config_class(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-5,
                      rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, tie_word_embeddings=tied)
    if arch == "qwen3":
        cfg.head_dim = 8
    model = model_class(cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1 + 0.1 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))
    return cfg, model


def write_gguf(path: Path, cfg, model, tok: dict, qtype, name: str, arch: str = "llama"):
    w = gguf.GGUFWriter(str(path), arch)
    w.add_name(name)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_rope_freq_base(10000.0)
    w.add_rope_dimension_count(cfg.hidden_size // cfg.num_attention_heads)
    if arch == "qwen3":
        w.add_key_length(cfg.head_dim)
        w.add_value_length(cfg.head_dim)
    w.add_vocab_size(cfg.vocab_size)
    w.add_tokenizer_model(tok["model"])
    w.add_tokenizer_pre(tok["pre"])
    w.add_token_list(tok["tokens"])
    if "merges" in tok:
        w.add_token_merges(tok["merges"])
    if "scores" in tok:
        w.add_token_scores(tok["scores"])
    w.add_token_types(tok["types"])
    w.add_bos_token_id(tok["bos"])
    w.add_eos_token_id(tok["eos"])
    if "unk" in tok:
        w.add_unk_token_id(tok["unk"])
    if "pad" in tok:
        w.add_pad_token_id(tok["pad"])
    w.add_add_bos_token(tok["add_bos"])
    if "add_eos" in tok:
        w.add_add_eos_token(tok["add_eos"])
    w.add_chat_template(CHAT_TEMPLATE)
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    names = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight"}
    if not cfg.tie_word_embeddings:
        names["lm_head.weight"] = "output.weight"
    leaf = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
            "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
            "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
            "self_attn.q_norm": "attn_q_norm", "self_attn.k_norm": "attn_k_norm"}
    for i in range(cfg.num_hidden_layers):
        for hf, gg in leaf.items():
            for kind in ("weight", "bias"):
                if f"model.layers.{i}.{hf}.{kind}" in sd:
                    names[f"model.layers.{i}.{hf}.{kind}"] = f"blk.{i}.{gg}.{kind}"
    for hf, gg in names.items():
        a = sd[hf]
        if arch != "llama":
            pass  # llama.cpp permutes Q/K only for the llama architecture
        elif gg.endswith("attn_q.weight"):
            a = permute(a, cfg.num_attention_heads, cfg.num_attention_heads)
        elif gg.endswith("attn_k.weight"):
            a = permute(a, cfg.num_attention_heads, cfg.num_key_value_heads)
        a = np.ascontiguousarray(a)
        if a.ndim == 1 or qtype == Q.F32:
            w.add_tensor(gg, a)
        elif qtype == Q.F16:
            w.add_tensor(gg, a.astype(np.float16))
        else:
            w.add_tensor(gg, gguf.quants.quantize(a, qtype), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def transformers_view(path: Path, model=None) -> dict:
    """transformers' view of a GGUF file; `model` replaces its GGUF model load where that cannot work (qwen3: the
    loader ignores attention.key_length and builds head_dim 128), the tokenizer is still transformers' GGUF one."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    if model is None:
        model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name).eval()
    tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    c = model.config
    config = {k: getattr(c, k, None) for k in (
        "model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
        "num_key_value_heads", "head_dim", "max_position_embeddings", "rms_norm_eps", "tie_word_embeddings",
        "bos_token_id", "eos_token_id", "pad_token_id")}
    config["rope_theta"] = (getattr(c, "rope_parameters", None) or {}).get("rope_theta", getattr(c, "rope_theta", None))
    tensors = {}
    for k, v in model.state_dict().items():
        tensors[k] = {"shape": list(v.shape), "sha256": sha(v), "sum": float(v.double().sum()),
                      "first": [float(x) for x in v.flatten()[:4]]}
    logits = []
    with torch.no_grad():
        for ids in LOGIT_IDS:
            out = model(torch.tensor([ids])).logits[0, -1]
            logits.append({"ids": ids, "last_logits": [float(x) for x in out]})
    texts = []
    for s in TEST_STRINGS:
        texts.append({"text": s, "ids": tok(s, add_special_tokens=False)["input_ids"],
                      "ids_with_special": tok(s, add_special_tokens=True)["input_ids"]})
    return {"config": config, "tensors": tensors, "logits": logits, "texts": texts,
            "special_tokens": {"bos_token": tok.bos_token, "eos_token": tok.eos_token, "unk_token": tok.unk_token,
                               "pad_token": tok.pad_token},
            "chat_template": tok.chat_template}


def dequant_fixture(out: Path):
    rng = np.random.default_rng(7)
    w = gguf.GGUFWriter(str(out / "dequant.gguf"), "test")
    expected = {}

    def half_bytes(n):
        return (rng.standard_normal(n) * 0.05).astype(np.float16).view(np.uint8).reshape(n, 2)

    for qt in (Q.F16, Q.BF16, Q.Q8_0, Q.Q4_0, Q.Q4_1, Q.Q4_K, Q.Q5_K, Q.Q6_K):
        block, size = gguf.GGML_QUANT_SIZES[qt]
        rows, cols = 1, 512
        nblocks = rows * cols // block
        if qt == Q.F16:
            raw = (rng.standard_normal(rows * cols) * 3).astype(np.float16).view(np.uint8)
            raw[:2] = [0x01, 0x00]  # a subnormal
        elif qt == Q.BF16:
            raw = (rng.standard_normal(rows * cols).astype(np.float32).view(np.uint32) >> 16).astype(
                np.uint16).view(np.uint8)
        else:
            raw = rng.integers(0, 256, size=(nblocks, size), dtype=np.uint8)
            # finite f16 scales where each layout keeps them
            if qt in (Q.Q8_0, Q.Q4_0):
                raw[:, 0:2] = half_bytes(nblocks)
            elif qt in (Q.Q4_1, Q.Q4_K, Q.Q5_K):
                raw[:, 0:2] = half_bytes(nblocks)
                raw[:, 2:4] = half_bytes(nblocks)
            elif qt == Q.Q6_K:
                raw[:, 208:210] = half_bytes(nblocks)
            raw = raw.reshape(-1)
        raw = raw.reshape(rows, -1)
        name = qt.name.lower()
        w.add_tensor(name, raw, raw_dtype=qt)
        values = gguf.dequantize(raw, qt).astype(np.float32)
        assert np.isfinite(values).all(), qt
        expected[name] = {"type": qt.name, "shape": [rows, cols],
                          "bits": [int(x) for x in values.reshape(-1).view(np.int32)]}
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    (out / "dequant.expected.json").write_text(json.dumps(expected, separators=(",", ":")) + "\n")


def save(out: Path, file_name: str, view: dict, logits: dict):
    """Writes <name>.expected.json; the logits go to LOGITS_FILE instead, keyed by the GGUF file name."""
    logits[file_name.replace(".expected.json", ".gguf")] = view.pop("logits")
    (out / file_name).write_text(json.dumps(view, indent=1) + "\n")


LOGITS_FILE = "llama-next-token-logits.json"


def main(out: Path):
    out.mkdir(parents=True, exist_ok=True)
    logits = {}
    dequant_fixture(out)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tok = gpt2_tokenizer()
        cfg, model = random_llama(len(tok["tokens"]), tied=False, seed=1)
        for qt in (Q.F32, Q.F16, Q.BF16, Q.Q8_0, Q.Q4_0, Q.Q4_1):
            name = f"tiny-gpt2tok-{qt.name.lower()}"
            path = out / f"{name}.gguf"
            write_gguf(path, cfg, model, tok, qt, name)
            view = transformers_view(path)
            if qt == Q.F32:  # the GGUF round trip of the original model is exact: permutation undone
                sd = model.state_dict()
                for k, v in view["tensors"].items():
                    assert v["sha256"] == sha(sd[k]), k
            save(out, f"{name}.expected.json", view, logits)
        stok = spm_tokenizer(tmp)
        cfg, model = random_llama(len(stok["tokens"]), tied=True, seed=2)
        path = out / "tiny-spm-f32.gguf"
        write_gguf(path, cfg, model, stok, Q.F32, "tiny-spm")
        view = transformers_view(path)
        save(out, "tiny-spm-f32.expected.json", view, logits)
        qtok = dict(tok, pre="qwen2")
        cfg, model = random_llama(len(qtok["tokens"]), tied=True, seed=3, arch="qwen2")
        path = out / "tiny-qwen2-q8_0.gguf"
        write_gguf(path, cfg, model, qtok, Q.Q8_0, "tiny-qwen2", arch="qwen2")
        view = transformers_view(path)
        save(out, "tiny-qwen2-q8_0.expected.json", view, logits)
        cfg, model = random_llama(len(qtok["tokens"]), tied=True, seed=4, arch="qwen3")
        path = out / "tiny-qwen3-q8_0.gguf"
        write_gguf(path, cfg, model, qtok, Q.Q8_0, "tiny-qwen3", arch="qwen3")
        # reference: the source model with its 2-D weights passed through Q8_0 as the file stores them
        with torch.no_grad():
            for k, v in model.state_dict().items():
                if v.dim() == 2:
                    q = gguf.quants.quantize(v.numpy().astype(np.float32), Q.Q8_0)
                    v.copy_(torch.from_numpy(gguf.dequantize(q, Q.Q8_0).reshape(v.shape)))
        view = transformers_view(path, model)
        # the fields the file states that the source config does not hold in the same form
        view["config"].update(rms_norm_eps=float(np.float32(cfg.rms_norm_eps)), bos_token_id=qtok["bos"],
                              eos_token_id=qtok["eos"], pad_token_id=qtok["pad"])
        view["reference"] = "source model (transformers' GGUF loader cannot build qwen3 with head_dim != 128)"
        save(out, "tiny-qwen3-q8_0.expected.json", view, logits)
    (out / LOGITS_FILE).write_text(json.dumps(
        {"about": "transformers' next-token logits (last position of `ids`) after its own load of each GGUF file "
                  "(qwen3: the source model through Q8_0); for a logits test of the imported directories",
         "models": logits}, separators=(",", ":")) + "\n")
    total = sum(f.stat().st_size for f in out.iterdir())
    print(f"wrote {out} ({total} bytes)")


def check(gguf_path: Path, imported: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    ref = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name).eval()
    mine = AutoModelForCausalLM.from_pretrained(str(imported)).eval()
    rs, ms = ref.state_dict(), mine.state_dict()
    assert set(rs) == set(ms), (set(rs) ^ set(ms))
    worst = max(float((rs[k].float() - ms[k].float()).abs().max()) for k in rs)
    with torch.no_grad():
        ids = torch.tensor([LOGIT_IDS[0]])
        dl = float((ref(ids).logits - mine(ids).logits).abs().max())
    rt = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    mt = AutoTokenizer.from_pretrained(str(imported))
    # without special tokens the ids must be equal; with them, the import honours tokenizer.ggml.add_bos_token
    # (as llama.cpp does) where transformers' GGUF loader drops it, so BOS may lead
    tc = json.loads((imported / "tokenizer_config.json").read_text())
    bos = [mt.bos_token_id] if tc.get("add_bos_token") else []
    bad = [s for s in TEST_STRINGS
           if rt(s, add_special_tokens=False)["input_ids"] != mt(s, add_special_tokens=False)["input_ids"]
           or bos + rt(s, add_special_tokens=True)["input_ids"] != mt(s, add_special_tokens=True)["input_ids"]]
    msgs = [{"role": "user", "content": "hi"}]
    same_chat = rt.apply_chat_template(msgs, tokenize=False) == mt.apply_chat_template(msgs, tokenize=False)
    print(json.dumps({"max_tensor_diff": worst, "max_logit_diff": dl, "token_mismatches": bad,
                      "chat_template_equal": same_chat}))
    sys.exit(0 if worst <= 1e-6 and dl <= 1e-4 and not bad and same_chat else 1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "check":
        check(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
