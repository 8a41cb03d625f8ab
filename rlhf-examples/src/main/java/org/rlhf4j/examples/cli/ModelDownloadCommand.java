package org.rlhf4j.examples.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rlhf4j.datasets.download.CacheDirs;
import org.rlhf4j.datasets.hub.FileSelection;
import org.rlhf4j.datasets.hub.HubClient;
import org.rlhf4j.datasets.hub.HubDownload;
import org.rlhf4j.datasets.hub.HubEnvironment;
import org.rlhf4j.datasets.hub.RepoFile;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf4j model download REPO_ID [--revision R] [--out DIR] [--include GLOB] [--exclude GLOB]}: downloads a
 * model repository from the Hugging Face Hub (or a mirror) through {@link HubDownload}.
 *
 * <p>Prints a summary and, on its last line, the directory (so {@code DIR=$(rlhf4j model download X | tail -1)}
 * works); progress bars and log lines go to stderr. Exit codes: 0 success (also when nothing had to be downloaded),
 * 1 a failed download (one {@code error:} line on stderr saying what to do, never the token), 2 bad arguments.
 */
@Command(
        name = "download",
        mixinStandardHelpOptions = true,
        description = {
            "Download a model repository from the Hugging Face Hub (resumable, sha256-checked, atomic).",
            "By default only what a causal LM needs: config.json, generation_config.json, *.safetensors (+ index),",
            "tokenizer files and README/LICENSE files at the repository root. Environment: HF_TOKEN, HF_ENDPOINT,",
            "HF_HUB_OFFLINE, HF_HUB_DOWNLOAD_TIMEOUT, RLHF4J_CACHE."
        })
public final class ModelDownloadCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "REPO_ID", description = "Repository id, e.g. EleutherAI/pythia-160m.")
    String repo;

    @Option(names = "--revision", defaultValue = "main", paramLabel = "R",
            description = "Branch, tag, refs/pr/N or commit id (default: ${DEFAULT-VALUE}).")
    String revision;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Target directory (default: <cache>/models/<namespace>--<name>; cache: $RLHF4J_CACHE,"
                    + " else ~/.cache/rlhf4j).")
    Path out;

    @Option(names = "--include", paramLabel = "GLOB",
            description = "Also download matching paths (fnmatch on the whole path, '*' crosses '/'; 'dir/' is a"
                    + " folder). Repeatable.")
    List<String> includes = new ArrayList<>();

    @Option(names = "--exclude", paramLabel = "GLOB", description = "Skip matching paths (wins over --include and"
            + " the defaults). Repeatable.")
    List<String> excludes = new ArrayList<>();

    @Option(names = "--no-defaults", description = "Download only what --include selects.")
    boolean noDefaults;

    @Option(names = "--token", paramLabel = "TOKEN", description = "Access token (default: $HF_TOKEN, else the"
            + " huggingface_hub token file). Prefer HF_TOKEN: other users can see command lines.")
    String token;

    @Option(names = "--endpoint", paramLabel = "URL", description = "Hub endpoint or mirror (default: $HF_ENDPOINT,"
            + " else https://huggingface.co).")
    String endpoint;

    @Option(names = "--offline", description = "Use an earlier download without touching the network (also"
            + " HF_HUB_OFFLINE=1).")
    boolean offline;

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "A response that sends nothing for this long"
            + " is retried (default: $HF_HUB_DOWNLOAD_TIMEOUT, else 10).")
    Double timeout;

    @Option(names = "--retries", defaultValue = "5", paramLabel = "N", description = "Retries of a failing request,"
            + " and resumes of a transfer that keeps breaking off (default: ${DEFAULT-VALUE}).")
    int retries;

    @Option(names = "--verify", description = "Re-hash the files already downloaded (and replace any that changed)"
            + " instead of checking their sizes.")
    boolean verify;

    @Option(names = "--no-progress", description = "Do not draw progress bars.")
    boolean noProgress;

    private final Map<String, String> env;
    private final String userHome;

    /** Creates the command for this process's environment (picocli instantiates it). */
    public ModelDownloadCommand() {
        this(System.getenv(), System.getProperty("user.home"));
    }

    /**
     * Creates the command for a given environment (tests).
     *
     * @param env the environment variables
     * @param userHome the home directory (default cache and token file)
     */
    ModelDownloadCommand(Map<String, String> env, String userHome) {
        this.env = Map.copyOf(env);
        this.userHome = userHome;
    }

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        HubEnvironment hubEnv;
        FileSelection selection;
        Path dir;
        HubClient client;
        try {
            HubClient.checkRepoId(repo);
            hubEnv = HubEnvironment.from(env, userHome);
            if (endpoint != null) {
                hubEnv = hubEnv.withEndpoint(URI.create(endpoint.strip()));
            }
            if (token != null) {
                hubEnv = hubEnv.withToken(token);
            }
            if (offline) {
                hubEnv = hubEnv.withOffline(true);
            }
            if (timeout != null) {
                if (!(timeout > 0) || timeout.isInfinite()) {
                    throw new IllegalArgumentException("--timeout must be a positive number of seconds, got "
                            + timeout);
                }
                hubEnv = hubEnv.withReadTimeout(Duration.ofMillis(Math.max(1, Math.round(timeout * 1000))));
            }
            FileSelection.Builder sb = FileSelection.builder().optDefaults(!noDefaults);
            includes.forEach(sb::addInclude);
            excludes.forEach(sb::addExclude);
            selection = sb.build();
            if (noDefaults && includes.isEmpty()) {
                throw new IllegalArgumentException("--no-defaults needs at least one --include GLOB");
            }
            dir = out != null ? out : HubDownload.defaultOutputDir(CacheDirs.resolve(env, userHome), repo);
            client = HubClient.builder()
                    .optEnvironment(hubEnv)
                    .optMaxRetries(retries)
                    .optProgress(noProgress ? null : DataOutput.printStream(err))
                    .build();
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            err.flush();
            return CommandLine.ExitCode.USAGE;
        }
        try {
            HubDownload.Result r = HubDownload.builder()
                    .setRepo(repo)
                    .optRevision(revision)
                    .setOutputDir(dir)
                    .optSelection(selection)
                    .optClient(client)
                    .optVerify(verify)
                    .build()
                    .run();
            stdout.println(summary(r));
            if (!r.notSelected().isEmpty()) {
                List<RepoFile> skipped = r.notSelected();
                long bytes = skipped.stream().mapToLong(RepoFile::size).sum();
                List<String> names = skipped.stream().map(RepoFile::path).sorted().limit(8).toList();
                stdout.println("not downloaded: " + skipped.size() + " files, " + mb(bytes) + " ("
                        + String.join(", ", names) + (skipped.size() > names.size() ? ", ..." : "")
                        + "); --include GLOB adds files");
            }
            stdout.println(r.dir());
            stdout.flush();
            return CommandLine.ExitCode.OK;
        } catch (IOException e) {
            err.println("error: " + e.getMessage());
            err.flush();
            return CommandLine.ExitCode.SOFTWARE;
        }
    }

    private static String summary(HubDownload.Result r) {
        var m = r.manifest();
        String what = switch (r.status()) {
            case DOWNLOADED -> "downloaded " + r.filesDownloaded() + " files (" + mb(r.bytesDownloaded()) + ")";
            case UPDATED -> "updated: " + r.filesDownloaded() + " files downloaded (" + mb(r.bytesDownloaded())
                    + "), " + r.filesReused() + " unchanged files kept";
            case UP_TO_DATE -> "up to date";
            case OFFLINE -> "offline: using the earlier download, not checked against the Hub";
        };
        return m.repo() + " at " + m.commit() + " (" + m.revision() + "): " + what + "; " + m.files().size()
                + " files, " + mb(m.totalBytes()) + " in all";
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }
}
