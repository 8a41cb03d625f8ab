package org.rlhf4j.datasets.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pieces of the Hub client checked against huggingface_hub / Python reference values. */
class HubUnitsTest {

    @TempDir Path tmp;

    @Test
    void gitBlobIdAndSha256MatchHuggingfaceHub() throws IOException {
        // huggingface_hub.utils.sha.git_hash(b"Hello, World!") (its docstring) and hashlib.sha256
        Path f = Files.write(tmp.resolve("hello"), "Hello, World!".getBytes(StandardCharsets.US_ASCII));
        HubClient.Digests d = HubClient.digests(f);
        assertThat(d.gitOid()).isEqualTo("b45ef6fec89518d314f546fd6c3025367b721684");
        assertThat(d.sha256()).isEqualTo("dffd6021bb2bd5b0af676290809ec3a53191dd81c7f70a4b28688a362182986f");
        assertThat(HubClient.digests(Files.write(tmp.resolve("empty"), new byte[0])).gitOid())
                .isEqualTo("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"); // git's empty blob
        RepoFile listed = new RepoFile("hello", 13, "b45ef6fec89518d314f546fd6c3025367b721684", null);
        assertThat(HubClient.mismatch(f, listed)).isEmpty();
        assertThat(HubClient.mismatch(f, new RepoFile("hello", 14, listed.gitOid(), null)))
                .hasValue("size mismatch for hello: expected 14 bytes, got 13");
        assertThat(HubClient.mismatch(f, new RepoFile("hello", 13, listed.gitOid(), "0".repeat(64))))
                .hasValue("sha256 mismatch for hello: expected " + "0".repeat(64) + ", got " + d.sha256());
    }

    @Test
    void quotingMatchesUrllibQuote() {
        // urllib.parse.quote("refs/pr/1", safe=""), quote("a b/ü+&.json"), quote("~x_y-z.w")
        assertThat(HubClient.quote("refs/pr/1", false)).isEqualTo("refs%2Fpr%2F1");
        assertThat(HubClient.quote("a b/ü+&.json", true)).isEqualTo("a%20b/%C3%BC%2B%26.json");
        assertThat(HubClient.quote("~x_y-z.w", true)).isEqualTo("~x_y-z.w");
        HubClient c = HubClient.builder().optEnvironment(
                new HubEnvironment(URI.create("https://hub.example/"), null, false, Duration.ofSeconds(1))).build();
        assertThat(c.fileUrl("a/b", "c".repeat(40), "sub dir/x.json").toString())
                .isEqualTo("https://hub.example/a/b/resolve/" + "c".repeat(40) + "/sub%20dir/x.json");
    }

    @Test
    void repoIdsAreValidatedAsHuggingfaceHubDoes() {
        // utils/_validators.py validate_repo_id docstring: valid and invalid examples
        for (String ok : new String[] {"foo", "foo/bar", "123", "Foo-BAR_foo.bar123", "EleutherAI/pythia-160m"}) {
            HubClient.checkRepoId(ok);
        }
        for (String bad : new String[] {"datasets/foo/bar", ".repo_id", "foo--bar", "foo.git", "other..repo..id",
                "", "a/", "café", "-x"}) {
            assertThatThrownBy(() -> HubClient.checkRepoId(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'" + bad + "'");
        }
    }

    @Test
    void sameOriginComparesSchemeHostAndPort() {
        URI hub = URI.create("https://huggingface.co");
        assertThat(HubClient.sameOrigin(URI.create("https://huggingface.co:443/a/resolve/x"), hub)).isTrue();
        assertThat(HubClient.sameOrigin(URI.create("https://HuggingFace.co/api"), hub)).isTrue();
        assertThat(HubClient.sameOrigin(URI.create("https://cdn-lfs.huggingface.co/x"), hub)).isFalse();
        assertThat(HubClient.sameOrigin(URI.create("http://huggingface.co/x"), hub)).isFalse();
        assertThat(HubClient.sameOrigin(URI.create("https://huggingface.co:8443/x"), hub)).isFalse();
        assertThat(HubClient.describe(URI.create("https://cdn/x?X-Amz-Signature=s"))).isEqualTo("https://cdn/x?…");
    }

    @Test
    void globsFollowPythonFnmatch() {
        // fnmatch.fnmatch(path, glob) in Python 3.11 ('*/' gets '*' appended as in filter_repo_objects)
        Object[][] cases = {
            {"*.bin", "pytorch_model.bin", true}, {"*.bin", "sub/x.bin", true},
            {"*.json", "onnx/config.json", true}, {"onnx/", "onnx/a/b.onnx", true}, {"onnx/", "onnx.json", false},
            {"model-?????-of-*.safetensors", "model-00001-of-00002.safetensors", true},
            {"[!o]*.json", "onnx.json", false}, {"[!o]*.json", "config.json", true},
            {"[a-c]*", "b.txt", true}, {"[a-c]*", "d.txt", false}, {"[]x]*", "]y", true}, {"[x", "[x", true},
            {"*.[Bb][Ii][Nn]", "a.BIN", true}, {"a?c", "a/c", true}, {"README*", "readme.md", false},
            {"a.b", "axb", false}, {"(x)+", "(x)+", true},
        };
        for (Object[] c : cases) {
            FileSelection s = FileSelection.builder().optDefaults(false).addInclude((String) c[0]).build();
            assertThat(s.selects((String) c[1])).as(c[0] + " ~ " + c[1]).isEqualTo(c[2]);
        }
        assertThatThrownBy(() -> FileSelection.builder().addInclude("[z-a]"))
                .hasMessageStartingWith("bad glob '[z-a]'");
    }

    @Test
    void defaultSelectionIsWhatACausalLmNeeds() {
        FileSelection d = FileSelection.defaults();
        for (String yes : new String[] {"config.json", "generation_config.json", "model.safetensors",
                "model-00001-of-00002.safetensors", "model.safetensors.index.json", "tokenizer.json",
                "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja", "tokenizer.model",
                "vocab.json", "merges.txt", "README.md", "LICENSE", "LICENSE.txt", "USE_POLICY.md"}) {
            assertThat(d.selects(yes)).as(yes).isTrue();
        }
        for (String no : new String[] {"pytorch_model.bin", "tf_model.h5", "flax_model.msgpack", "onnx/model.onnx",
                "model.gguf", "original/consolidated.00.pth", "sub/config.json", "training_args.bin",
                ".gitattributes", "pytorch_model.bin.index.json"}) {
            assertThat(d.selects(no)).as(no).isFalse();
        }
        FileSelection s = FileSelection.builder().addInclude("*.bin").addExclude("training_*").build();
        assertThat(s.selects("pytorch_model.bin")).isTrue();
        assertThat(s.selects("training_args.bin")).isFalse();
        assertThat(s.selects("config.json")).isTrue();
        assertThat(FileSelection.otherWeightFormat("pytorch_model-00001-of-00002.bin")).hasValue("PyTorch .bin");
        assertThat(FileSelection.otherWeightFormat("training_args.bin")).isEmpty();
        assertThat(FileSelection.otherWeightFormat("gguf/x-Q4_K_M.gguf")).hasValue("GGUF");
    }

    @Test
    void unsafeRepositoryPathsAreRejected() {
        for (String bad : new String[] {"../x", "/abs", "a//b", "a\\b", "a/./b", "a/..", "", "x\ny"}) {
            assertThatThrownBy(() -> RepoFile.checkPath(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        RepoFile.checkPath("onnx/model.onnx");
        RepoFile.checkPath("..hidden/x");
    }

    @Test
    void environmentFollowsHuggingfaceHubPrecedence() throws IOException {
        Path tokenFile = Files.writeString(tmp.resolve("token"), "  hf_from_file\n");
        String home = tmp.resolve("home").toString();
        HubEnvironment none = HubEnvironment.from(Map.of(), home);
        assertThat(none.endpoint()).isEqualTo(URI.create("https://huggingface.co"));
        assertThat(none.token()).isNull();
        assertThat(none.offline()).isFalse();
        assertThat(none.readTimeout()).isEqualTo(Duration.ofSeconds(10));

        assertThat(HubEnvironment.from(Map.of("HF_TOKEN_PATH", tokenFile.toString()), home).token())
                .isEqualTo("hf_from_file");
        Files.createDirectories(tmp.resolve("hfhome"));
        Files.copy(tokenFile, tmp.resolve("hfhome/token"));
        assertThat(HubEnvironment.from(Map.of("HF_HOME", tmp.resolve("hfhome").toString()), home).token())
                .isEqualTo("hf_from_file");
        assertThat(HubEnvironment.from(Map.of("HUGGING_FACE_HUB_TOKEN", "hf_old",
                "HF_TOKEN_PATH", tokenFile.toString()), home).token()).isEqualTo("hf_old");
        HubEnvironment e = HubEnvironment.from(Map.of("HF_TOKEN", "hf_new\r\n", "HUGGING_FACE_HUB_TOKEN", "hf_old",
                "HF_ENDPOINT", "https://hf-mirror.example//", "HF_HUB_OFFLINE", "yes",
                "HF_HUB_DOWNLOAD_TIMEOUT", "2.5"), home);
        assertThat(e.token()).isEqualTo("hf_new");
        assertThat(e.endpoint()).isEqualTo(URI.create("https://hf-mirror.example"));
        assertThat(e.offline()).isTrue();
        assertThat(e.readTimeout()).isEqualTo(Duration.ofMillis(2500));
        assertThat(e.toString()).doesNotContain("hf_new").contains("token=set");
        assertThat(HubEnvironment.from(Map.of("TRANSFORMERS_OFFLINE", "1"), home).offline()).isTrue();
        assertThat(HubEnvironment.from(Map.of("HF_HUB_OFFLINE", "0"), home).offline()).isFalse();
        assertThat(HubEnvironment.tokenFile(Map.of("XDG_CACHE_HOME", "/x"), home))
                .isEqualTo(Path.of("/x/huggingface/token"));
        assertThat(HubEnvironment.tokenFile(Map.of(), home)).isEqualTo(Path.of(home, ".cache/huggingface/token"));
        assertThatThrownBy(() -> HubEnvironment.from(Map.of("HF_ENDPOINT", "ftp://x"), home))
                .hasMessageContaining("http(s)");
    }
}
