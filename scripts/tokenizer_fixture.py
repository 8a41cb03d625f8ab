"""Regenerates rlhf-core/src/test/resources/tokenizer-fixtures/ (read by HfTokenizerSpecialTokensTest,
ChatTemplateParityTest and ChatTemplateCommandTest).

Offline, no hub: builds three small tokenizers and records what transformers does with them.

- llama3-bpe: byte-level BPE trained with `tokenizers` on a tiny corpus; Llama 3 layout (BOS added by the
  post_processor, eos <|eot_id|>, no pad token), chat_template = Llama 3.1's.
- qwen-bpe: the same model with Qwen2.5's layout (no BOS at all, ByteLevel post_processor only,
  pad <|endoftext|>, eos <|im_end|>), chat_template = Qwen2.5's.
- llama2-sp: SentencePiece BPE (`sentencepiece`, byte_fallback) turned into the Llama 2 / Mistral / TinyLlama
  tokenizer.json pipeline (Prepend + Replace normalizer, byte-fallback BPE, <s> added by the post_processor,
  add_bos_token=true in tokenizer_config.json, special tokens as AddedToken objects), chat_template a list
  (default = TinyLlama/Zephyr's).

Then writes tokenization.json (transformers' ids with and without add_special_tokens, decode results, special ids)
and chat.json (real chat templates rendered by transformers' own apply_chat_template / render_jinja_template, plus
small Jinja feature cases run through the same Jinja environment).

    /work/venv-ref/bin/python scripts/tokenizer_fixture.py
"""

import json
import os
import shutil
import sys
import tempfile

import sentencepiece as spm
import transformers
from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer
from transformers.utils.chat_template_utils import render_jinja_template

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "rlhf-core", "src", "test", "resources", "tokenizer-fixtures")
TRL_TEMPLATES = os.path.join(os.path.dirname(__import__("trl").__file__), "chat_templates")

CORPUS = [
    "Hello world, this is a tiny corpus for a tiny tokenizer.",
    "The quick brown fox jumps over the lazy dog.",
    "Llama, Qwen, Mistral and SmolLM are chat models.",
    "  leading spaces and trailing spaces  ",
    "numbers 12345 and symbols !? (x) [y] {z}",
    "café naïve über déjà vu",
    "user assistant system: You are a helpful assistant.",
    "What is 2+2? It is 4.\nNew line\n\nTwo new lines.",
] * 20

TEXTS = [
    "Hello world",
    " Hello world",
    "Hello world ",
    "  two leading spaces",
    "line one\nline two\n\nline four",
    "tab\tseparated",
    "café naïve über",
    "emoji 😀 and 日本語",
    "",
    " ",
    "a",
]

LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
QWEN_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def trl_template(name):
    with open(os.path.join(TRL_TEMPLATES, name), encoding="utf-8") as f:
        return f.read()


# Templates whose text does not ship with trl, copied verbatim from the models' tokenizer_config.json as quoted in
# public code (see NOTICE lines in chat.json's "source").
ZEPHYR = ("{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + "
          "eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n"
          "{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n"
          "{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}")
SMOLLM2 = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n"
           "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' "
           "+ message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt "
           "%}{{ '<|im_start|>assistant\n' }}{% endif %}")
MISTRAL_V02 = ("{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
               "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
               "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] "
               "== 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant "
               "roles are supported!') }}{% endif %}{% endfor %}")
MISTRAL_V1 = ("{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = messages[0]['content'] %}\n    "
              "{%- set loop_messages = messages[1:] %}\n{%- else %}\n    {%- set loop_messages = messages %}\n{%- endif %}"
              "\n\n{{- bos_token }}\n{%- for message in loop_messages %}\n    {%- if (message['role'] == 'user') != "
              "(loop.index0 % 2 == 0) %}\n        {{- raise_exception('After the optional system message, conversation "
              "roles must alternate user/assistant/user/assistant/...') }}\n    {%- endif %}\n    {%- if message['role'] "
              "== 'user' %}\n        {%- if loop.first and system_message is defined %}\n            {{- ' [INST] ' + "
              "system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\n        {%- else %}\n            {{- ' "
              "[INST] ' + message['content'] + ' [/INST]' }}\n        {%- endif %}\n    {%- elif message['role'] == "
              "'assistant' %}\n        {{- ' ' + message['content'] + eos_token}}\n    {%- else %}\n        {{- "
              "raise_exception('Only user and assistant roles are supported, with the exception of an initial optional "
              "system message!') }}\n    {%- endif %}\n{%- endfor %}\n")

TEMPLATES = {
    # name: (text, tokenizer dir whose special tokens are passed, source)
    "qwen2_5": (trl_template("qwen2_5.jinja"), "qwen-bpe",
                "Qwen/Qwen2.5-*-Instruct tokenizer_config.json, via trl 1.13.0 trl/chat_templates/qwen2_5.jinja"),
    "qwen2_5_training": (trl_template("qwen2_5_training.jinja"), "qwen-bpe",
                         "trl 1.13.0 trl/chat_templates/qwen2_5_training.jinja ({% generation %} markers)"),
    "qwen3": (trl_template("qwen3.jinja"), "qwen-bpe",
              "Qwen/Qwen3-* tokenizer_config.json, via trl 1.13.0 trl/chat_templates/qwen3.jinja"),
    "smollm2": (SMOLLM2, "qwen-bpe",
                "HuggingFaceTB/SmolLM2-135M-Instruct tokenizer_config.json (text as quoted verbatim in public code)"),
    "llama3": (trl_template("llama3.jinja"), "llama3-bpe",
               "meta-llama/Meta-Llama-3-8B-Instruct tokenizer_config.json, via trl 1.13.0 trl/chat_templates/llama3.jinja"),
    "llama3_1": (trl_template("llama3_1.jinja"), "llama3-bpe",
                 "meta-llama/Llama-3.1-8B-Instruct tokenizer_config.json, via trl 1.13.0 trl/chat_templates/llama3_1.jinja"),
    "llama3_2": (trl_template("llama3_2.jinja"), "llama3-bpe",
                 "meta-llama/Llama-3.2-1B-Instruct tokenizer_config.json, via trl 1.13.0 trl/chat_templates/llama3_2.jinja"),
    "llama3_training": (trl_template("llama3_training.jinja"), "llama3-bpe",
                        "trl 1.13.0 trl/chat_templates/llama3_training.jinja ({% generation %} markers)"),
    "zephyr": (ZEPHYR, "llama2-sp",
               "HuggingFaceH4/zephyr-7b-beta and TinyLlama/TinyLlama-1.1B-Chat-v1.0 tokenizer_config.json "
               "(text as quoted verbatim in public code)"),
    "mistral_v02": (MISTRAL_V02, "llama2-sp",
                    "mistralai/Mistral-7B-Instruct-v0.2 tokenizer_config.json, as quoted in ggml-org/llama.cpp "
                    "tests/test-chat-template.cpp"),
    "mistral_v1": (MISTRAL_V1, "llama2-sp",
                   "mistralai 'v1' template with a system prompt (Mistral-7B-Instruct-v0.2 later revision), as quoted in "
                   "ggml-org/llama.cpp tests/test-chat-template.cpp"),
}

U = {"role": "user", "content": "What is 2+2?"}
A = {"role": "assistant", "content": "  It is 4.  "}
U2 = {"role": "user", "content": "And 3+3? café 😀\nThanks"}
S = {"role": "system", "content": "You are terse. "}
CONVERSATIONS = {
    "single": [U],
    "multi": [U, A, U2],
    "system": [S, U, A, U2],
    "ends_with_assistant": [S, U, A],
    "think": [U, {"role": "assistant", "content": "<think>\nadd them\n</think>\n\nIt is 4."}, U2],
    "double_user": [U, U2],
}

# Jinja features real templates use, through transformers' own environment (expected output or error).
FEATURES = [
    ("trim_lstrip", "a\n    {% if true %}\n    b\n    {% endif %}\nc", {}),
    ("minus", "a   {{- 'b' -}}   c  {%- if true -%}  d  {%- endif %} e", {}),
    ("string_methods", "{{ ' x '.strip() }}|{{ 'xxaxx'.lstrip('x') }}|{{ ' x '.rstrip() }}|{{ 'abc'.startswith('ab') }}"
     "{{ 'abc'.endswith('x') }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}"
     "|{{ 'hello wORLD'.title() }}|{{ 'aXbX'.replace('X', '-') }}|{{ 'hi'.capitalize() }}", {}),
    ("namespace", "{% set ns = namespace(n=0, seen=false) %}{% for x in [1, 2, 3] %}{% set ns.n = ns.n + x %}{% endfor %}"
     "{{ ns.n }}{{ ns.seen }}", {}),
    ("loopcontrols", "{% for n in range(6) %}{% if n == 1 %}{% continue %}{% endif %}{% if n == 4 %}{% break %}{% endif %}"
     "{{ n }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }},{% endfor %}", {}),
    ("tests", "{{ s is string }}{{ d is mapping }}{{ xs is iterable }}{{ n is none }}{{ u is defined }}{{ s is defined }}"
     "{{ 3 is number }}{{ xs is sequence }}{{ d is string }}{{ true is boolean }}{{ 4 is even }}{{ 3 is odd }}",
     {"s": "x", "d": {"k": 1}, "xs": [1], "n": None}),
    ("slices", "{{ xs[1:] }}{{ xs[:-1] }}{{ xs[::-1] }}{{ xs[::2] }}{{ 'hello'[1:3] }}{{ xs[-1] }}{{ 'abc'[-1] }}",
     {"xs": [1, 2, 3, 4]}),
    ("tojson", "{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ d | tojson(sort_keys=true) }}|{{ 'é\"<' | tojson }}"
     "|{{ xs | tojson(separators=(',', ':')) }}|{{ 1.5 | tojson }}",
     {"d": {"b": [1, "x", None, True], "a": {"c": 2.5}}, "xs": [1, 2]}),
    ("filters", "{{ '  x  ' | trim }}|{{ xs | length }}|{{ 'abc' | length }}|{{ xs | join('-') }}|{{ xs | first }}"
     "{{ xs | last }}|{{ missing | default('d') }}|{{ 5 | string }}|{{ 'ab' | upper }}|{{ xs | reverse | list }}"
     "|{{ ds | selectattr('k', 'equalto', 1) | list | length }}|{{ ds | map(attribute='k') | join(',') }}"
     "|{{ xs | reject('equalto', 2) | list }}|{{ 'a b' | replace(' ', '_') }}|{{ '%d' | format(3) }}"
     "|{{ 3.7 | int }}|{{ xs | sum }}|{{ 'x' | capitalize }}|{{ d | items | list }}|{{ ds | map(attribute='k') | max }}"
     "|{{ d | dictsort }}|{{ '<a>' | e }}|{{ xs | unique | list }}|{{ 'hello' | truncate(10) }}",
     {"xs": [1, 2, 2, 3], "ds": [{"k": 1}, {"k": 2}], "d": {"b": 2, "a": 1}}),
    ("concat", "{{ 'n=' ~ 3 ~ true ~ none }}|{{ 'a' + 'b' }}|{{ [1] + [2] }}|{{ 7 // 2 }}{{ -7 // 2 }}{{ 7 % 3 }}{{ -7 % 3 }}"
     "{{ 2 ** 3 }}{{ 7 / 2 }}{{ 1 + 1.5 }}{{ 10 / 5 }}", {}),
    ("dicts", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{{ d.get('a') }}{{ d.get('q', 'z') }}{{ d['b'] }}"
     "{{ d.b }}{{ 'a' in d }}{{ d.keys() | list }}{{ d.values() | list }}{{ {'x': 1} }}", {"d": {"a": 1, "b": 2}}),
    ("printing", "{{ none }}|{{ true }}|{{ [1, 'a', none, true, 1.0] }}|{{ {'k': 'v'} }}|{{ 1e3 }}|{{ 0.1 + 0.2 }}"
     "|{{ \"it's\" }}|{{ 'a\\nb' }}|{{ ('a', 1) }}", {}),
    ("set_scope", "{% set a = 1 %}{% for x in [1] %}{% set a = 2 %}{{ a }}{% endfor %}{{ a }}{% if true %}{% set b = 3 %}"
     "{% endif %}{{ b }}{% set c, d = 1, 2 %}{{ c }}{{ d }}", {}),
    ("for_if_else", "{% for x in xs if x > 1 %}{{ x }}{{ loop.index }}/{{ loop.length }};{% else %}none{% endfor %}"
     "{% for x in [] %}x{% else %}empty{% endfor %}{{ 'y' if flag else 'n' }}{{ 'z' if false }}.",
     {"xs": [1, 2, 3], "flag": True}),
    ("macro", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('a') }}{{ greet('b', '?') }}",
     {}),
    ("raise", "{% if x %}{{ raise_exception('bad: ' ~ x) }}{% endif %}ok", {"x": "thing"}),
    ("comparisons", "{{ 1 < 2 }}{{ 2 <= 1 }}{{ 'a' == 'a' }}{{ 'a' != 'a' }}{{ 3 > 2 }}{{ 1 >= 1 }}{{ 1 == 1.0 }}"
     "{{ not (1 == 2) }}{{ 1 and 0 }}{{ '' or 'x' }}{{ [] or 'e' }}{{ 1 in [1] }}{{ 'b' not in 'abc' }}", {}),
    ("whitespace_output", "{{ 'a' }}\n{{ 'b' }}\n  {{ 'c' }}\n{% for x in [1,2] %}\n  {{ x }}\n{% endfor %}\nend\n", {}),
    ("raw_and_comments", "a{# c #}b {%- raw %} {{ x }} {% endraw %}\n{#- c2 -#}\nz", {}),
    ("filter_block", "{% filter upper %}abc{% endfilter %}{% set t %}in{{ 1 }}{% endset %}[{{ t }}]", {}),
    ("loop_scope", "{% set x = 1 %}{% for i in [1,2] %}{{ x }}{% set x = x + 1 %}{{ x }};{% endfor %}{{ x }}"
     "{% for i in [1,2] %}{% if loop.first %}{% set y = 5 %}{% endif %}{{ y }};{% endfor %}", {}),
    ("nested_loops", "{% for a in [1,2] %}{% for b in [3] %}{{ loop.index }}{{ a }}{% endfor %}{{ loop.index }}"
     "{% endfor %}{% set g = 'G' %}{% macro m() %}{{ g }}{% endmacro %}{{ m() }}", {}),
    ("undefined_attribute", "{{ d.nokey.x }}", {"d": {"k": 1}}),
    ("undefined_name", "{{ missing.attr }}", {}),
    ("misc_values", "{{ [1][5] }}|{{ 'ab' * 2 }}|{{ 1 < 2 < 3 }}|{{ 'a' < 'b' }}|{{ none | string }}|{{ [] | first }}"
     "|{{ '%s-%s' | format(1, 2) }}|{{ '%s' % 3 }}|{{ range(2, 10, 3) | list }}|{{ '\\u00e9' }}|{{ 1e20 }}"
     "|{{ 1/3 }}|{{ 2.5e-5 }}|{{ '😀x' | length }}|{{ '😀' | tojson(ensure_ascii=true) }}", {}),
    ("comment_whitespace", "a\n  {#- c #}\nb\n  {# c2 #}\nc\n{%+ if true %}d{% endif %}\n  {{- 'e' }}\n", {}),
    ("not_is", "{% if not x is defined %}u{% endif %}{{ n is not none }}{{ x is not defined }}", {"n": 1}),
    ("loop_helpers", "{% for i in range(3) %}{{ loop.cycle('a', 'b') }}{{ loop.previtem }}{{ loop.revindex }}"
     "{% endfor %}", {}),
    ("set_block_map", "{% set t %}  x {% endset %}[{{ t }}]{% set l = [1,2] %}{{ l | map('string') | join }}", {}),
    ("numbers", "{{ 'x' ~ 1.0 }}{{ 3 * 1.5 }}{{ 2 ** -1 }}{{ 7 % -3 }}{{ -7.5 // 2 }}", {}),
    ("tojson_indent", "{{ {'a': 1} | tojson(indent=2) }}{{ [] | tojson(indent=2) }}"
     "{{ {'a': [], 'b': {}} | tojson(indent=2) }}", {}),
    ("titles", "{{ 'Hello World' | title }}|{{ \"they're bill's\" | title }}|{{ \"they're bill's\".title() }}"
     "|{{ 'a-b c'.title() }}", {}),
    ("splits", "{{ ' a b '.split(' ') }}{{ 'a  b'.split(None, 1) }}{{ 'a,b,c'.rsplit(',', 1) }}{{ 'x'.split('x') }}",
     {}),
    ("print_messages", "{{ messages }}", {}, [{"role": "user", "content": "hi"}]),
    ("indented_template", "{%- for m in messages %}\n  {%- if m.role == 'user' %}\n    {{- m.content }}\n"
     "  {%- endif %}\n{%- endfor %}", {}, [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}]),
    ("slices_more", "{{ 'abc'[::-1] }}{{ [1,2,3][-2:] }}{{ [1,2,3][5:] }}{{ (1,2,3)[1:] }}{{ 'abc'[10] }}|", {}),
    ("iterate_dict_string", "{% for x in {'b': 1, 'a': 2} %}{{ x }}{% endfor %}{% for x in 'ab' %}{{ x }}{% endfor %}",
     {}),
    ("bool_arith", "{{ true + 1 }}{{ 1 if 0 else 2 }}{{ [] | length }}{{ {} is mapping }}{{ 'a' is iterable }}"
     "{{ 5 is divisibleby 5 }}", {}),
    ("crlf_source", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n", {}),
]


def train_bytelevel(specials):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=420, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    return tok


def sentencepiece_llama2():
    d = tempfile.mkdtemp()
    corpus = os.path.join(d, "c.txt")
    with open(corpus, "w", encoding="utf-8") as f:
        f.write("\n".join(CORPUS))
    spm.SentencePieceTrainer.train(input=corpus, model_prefix=os.path.join(d, "m"), model_type="bpe", vocab_size=400,
                                   byte_fallback=True, character_coverage=1.0, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
                                   add_dummy_prefix=True, remove_extra_whitespaces=False,
                                   normalization_rule_name="identity", minloglevel=2)
    sp = spm.SentencePieceProcessor(model_file=os.path.join(d, "m.model"))
    shutil.rmtree(d)
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    merges = []
    # merges in the order of the merged piece's id (= score order), as transformers' SentencePieceExtractor does
    for piece, pid in vocab.items():
        if sp.is_control(pid) or sp.is_unknown(pid) or sp.is_byte(pid):
            continue
        for k in range(1, len(piece)):
            a, b = piece[:k], piece[k:]
            if a in vocab and b in vocab:
                merges.append((pid, vocab[a], vocab[b], a, b))
    merges = [(a, b) for _, _, _, a, b in sorted(merges)]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in ["<unk>", "<s>", "</s>"]])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)])
    return tok


def added(content):
    return {"__type": "AddedToken", "content": content, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False,
            "special": True}


def write_dir(name, tok, config, special_map=None):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    tok.save(os.path.join(d, "tokenizer.json"))
    decoder = {}
    for t in json.loads(tok.to_str())["added_tokens"]:
        decoder[str(t["id"])] = {k: t[k] for k in ("content", "lstrip", "normalized", "rstrip", "single_word", "special")}
    config = {"added_tokens_decoder": decoder, **config}
    with open(os.path.join(d, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=2)
        f.write("\n")
    if special_map is not None:
        with open(os.path.join(d, "special_tokens_map.json"), "w", encoding="utf-8") as f:
            json.dump(special_map, f, ensure_ascii=False, indent=2)
            f.write("\n")
    return d


def main():
    os.makedirs(OUT, exist_ok=True)
    # Llama 3: BOS through the post_processor (Sequence[ByteLevel, TemplateProcessing]), no add_bos_token key
    l3 = train_bytelevel(LLAMA3_SPECIALS)
    bos = l3.token_to_id("<|begin_of_text|>")
    l3.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B",
                                      special_tokens=[("<|begin_of_text|>", bos)])])
    write_dir("llama3-bpe", l3, {
        "bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "clean_up_tokenization_spaces": True,
        "model_max_length": 131072, "tokenizer_class": "PreTrainedTokenizerFast",
        "chat_template": TEMPLATES["llama3_1"][0]})
    # Qwen2.5: no BOS, pad <|endoftext|>, eos <|im_end|>
    qw = train_bytelevel(QWEN_SPECIALS)
    qw.post_processor = processors.ByteLevel(trim_offsets=False)
    write_dir("qwen-bpe", qw, {
        "bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "errors": "replace",
        "split_special_tokens": False, "clean_up_tokenization_spaces": False, "model_max_length": 131072,
        "tokenizer_class": "PreTrainedTokenizerFast", "chat_template": TEMPLATES["qwen2_5"][0]})
    # Llama 2 / Mistral / TinyLlama: SentencePiece BPE, add_bos_token=true, AddedToken objects, template list
    l2 = sentencepiece_llama2()
    write_dir("llama2-sp", l2, {
        "add_bos_token": True, "add_eos_token": False, "bos_token": added("<s>"), "eos_token": added("</s>"),
        "unk_token": added("<unk>"), "pad_token": None, "legacy": True, "clean_up_tokenization_spaces": False,
        "model_max_length": 2048, "tokenizer_class": "PreTrainedTokenizerFast",
        "chat_template": [{"name": "default", "template": ZEPHYR}, {"name": "mistral", "template": MISTRAL_V02}]},
        special_map={"bos_token": added("<s>"), "eos_token": added("</s>"), "unk_token": added("<unk>")})

    tokenization = {"transformers": transformers.__version__, "tokenizers": {}}
    specials_in_text = {"llama3-bpe": "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>x <|begin_of_text|>",
                        "qwen-bpe": "<|im_start|>user\nHi<|im_end|>\n<|endoftext|> end",
                        "llama2-sp": "<s>[INST] Hi [/INST] ok</s>x <unk>"}
    toks = {}
    for name in ["llama3-bpe", "qwen-bpe", "llama2-sp"]:
        t = AutoTokenizer.from_pretrained(os.path.join(OUT, name))
        toks[name] = t
        cases = []
        for text in TEXTS + [specials_in_text[name]]:
            plain = t(text, add_special_tokens=False)["input_ids"]
            special = t(text)["input_ids"]
            cases.append({"text": text, "ids": plain, "ids_with_special_tokens": special,
                          "decoded": t.decode(special, skip_special_tokens=False),
                          "decoded_skip_special": t.decode(special, skip_special_tokens=True)})
        tokenization["tokenizers"][name] = {
            "bos_token_id": t.bos_token_id, "eos_token_id": t.eos_token_id, "pad_token_id": t.pad_token_id,
            "unk_token_id": t.unk_token_id, "special_tokens_map": t.special_tokens_map, "vocab_size": len(t),
            "cases": cases}
    with open(os.path.join(OUT, "tokenization.json"), "w", encoding="utf-8") as f:
        json.dump(tokenization, f, ensure_ascii=False, indent=1)
        f.write("\n")

    chat = {"transformers": transformers.__version__, "templates": {}, "cases": [], "features": []}
    for name, (text, tdir, source) in TEMPLATES.items():
        chat["templates"][name] = {"tokenizer": tdir, "source": source, "template": text}
        t = toks[tdir]
        for conv_name, conv in CONVERSATIONS.items():
            for agp in (False, True):
                extra = {"date_string": "26 Jul 2024"} if name == "llama3_2" else {}
                case = {"template": name, "conversation": conv_name, "messages": conv, "add_generation_prompt": agp,
                        "extra": extra}
                try:
                    if "{% generation %}" in text or "{%- generation %}" in text:
                        rendered, spans = render_jinja_template([conv], chat_template=text, add_generation_prompt=agp,
                                                                return_assistant_tokens_mask=True,
                                                                **t.special_tokens_map, **extra)
                        case["spans"] = [list(s) for s in spans[0]]
                        assert rendered[0] == t.apply_chat_template(conv, chat_template=text, tokenize=False,
                                                                    add_generation_prompt=agp, **extra)
                        case["expected"] = rendered[0]
                    else:
                        case["expected"] = t.apply_chat_template(conv, chat_template=text, tokenize=False,
                                                                 add_generation_prompt=agp, **extra)
                except Exception as e:  # jinja2 TemplateError from raise_exception
                    case["error"] = str(e)
                chat["cases"].append(case)
    # tools in the system prompt (tojson with and without indent, Llama's tools_in_user_message)
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city — °C",
              "parameters": {"type": "object", "properties": {"city": {"type": "string", "enum": ["Paris", "Zürich"]}},
                             "required": ["city"]}}}]
    for name in ["qwen2_5", "qwen3", "llama3_1", "llama3_2"]:
        text, tdir, _ = TEMPLATES[name]
        for conv_name in ["single", "system"]:
            conv = CONVERSATIONS[conv_name]
            extra = {"tools": tools, **({"date_string": "26 Jul 2024"} if name == "llama3_2" else {})}
            chat["cases"].append({"template": name, "conversation": conv_name, "messages": conv,
                                  "add_generation_prompt": True, "extra": extra,
                                  "expected": toks[tdir].apply_chat_template(conv, chat_template=text, tokenize=False,
                                                                           add_generation_prompt=True, **extra)})
    # the enable_thinking switch of Qwen3
    conv = CONVERSATIONS["single"]
    chat["cases"].append({"template": "qwen3", "conversation": "single", "messages": conv, "add_generation_prompt": True,
                          "extra": {"enable_thinking": False},
                          "expected": toks["qwen-bpe"].apply_chat_template(conv, chat_template=TEMPLATES["qwen3"][0],
                                                                          tokenize=False, add_generation_prompt=True,
                                                                          enable_thinking=False)})
    for name, template, ctx, *msgs in FEATURES:
        messages = msgs[0] if msgs else []
        case = {"name": name, "template": template, "context": ctx, "messages": messages}
        try:
            case["expected"] = render_jinja_template([messages], chat_template=template, **ctx)[0][0]
        except Exception as e:
            case["error"] = str(e)
        chat["features"].append(case)
    with open(os.path.join(OUT, "chat.json"), "w", encoding="utf-8") as f:
        json.dump(chat, f, ensure_ascii=False, indent=1)
        f.write("\n")
    write_trl_templates()
    return 0


# Every template TRL ships (trl/chat_templates: the models' originals and TRL's generation-tagged training variants)
# up to 8 kB, plus GPT-OSS and Gemma 4, rendered by transformers' render_jinja_template with assistant spans.
TRL_CONVERSATIONS = {
    "single": [{"role": "user", "content": "What is 2+2?"}],
    "system": [{"role": "system", "content": "Be terse. "}, {"role": "user", "content": "Hi"},
               {"role": "assistant", "content": " Hello! "}, {"role": "user", "content": "2+2? 😀"}],
    "multi": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "<think>\nhm\n</think>\n\nHello"},
              {"role": "user", "content": "Bye"}, {"role": "assistant", "content": "Bye!"}],
}
TRL_TOKENS = {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}


def write_trl_templates():
    import glob
    import trl
    templates = {}
    for path in sorted(glob.glob(os.path.join(TRL_TEMPLATES, "*.jinja"))):
        name = os.path.basename(path)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if len(text.encode("utf-8")) <= 8000 or name in ("gptoss.jinja", "gemma4.jinja"):
            templates[name] = text
    cases = []
    for name, text in templates.items():
        for conv_name, conv in TRL_CONVERSATIONS.items():
            for agp in (False, True):
                case = {"template": name, "conversation": conv_name, "add_generation_prompt": agp}
                try:
                    rendered, spans = render_jinja_template([conv], chat_template=text, add_generation_prompt=agp,
                                                            return_assistant_tokens_mask=True, **TRL_TOKENS)
                    case["expected"] = rendered[0]
                    case["spans"] = [list(x) for x in spans[0]]
                except Exception as e:  # raise_exception in the template
                    case["error"] = str(e)
                cases.append(case)
    out = {"trl": trl.__version__, "transformers": transformers.__version__, "special_tokens": TRL_TOKENS,
           "conversations": TRL_CONVERSATIONS, "templates": templates, "cases": cases}
    with open(os.path.join(OUT, "trl-templates.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=0)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
