package org.rlhf4j.datasets.hub;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.rlhf4j.core.checkpoint.AtomicDirectory;
import org.rlhf4j.core.io.Json;
import org.rlhf4j.core.io.ModelFormatException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Downloads a snapshot of a model repository into a directory that appears only when every file is complete and
 * verified.
 *
 * <p>Steps: take the directory's owner lock ({@code DIR.lock}, {@link AtomicDirectory#lock}); resolve the revision
 * to a commit; list the commit's files and apply the {@link FileSelection}; fill the staging directory
 * {@code DIR.tmp-<first 12 digits of the commit>} (a rerun for the same commit resumes it, partial files included);
 * write {@value HubManifest#FILE_NAME}; then rename the staging directory to {@code DIR} (an existing {@code DIR} is
 * first renamed to {@code DIR.old} and deleted afterwards, the protocol of {@link AtomicDirectory}, so readers using
 * {@code AtomicReads} always see one complete version).
 *
 * <p>Reruns: when {@code DIR} already holds the same commit and the same files (present, with their recorded sizes,
 * and with {@link Builder#optVerify} their sha256 too) nothing is downloaded. When the revision now points to another
 * commit, or the selection changed, the new snapshot is staged; files whose content is unchanged (same sha256 or git
 * blob id) are hard-linked (or copied) from {@code DIR} and re-hashed rather than downloaded. A commit id as revision
 * with an unchanged selection needs no network at all. {@code DIR} must be absent, empty or an earlier download of
 * the same repository.
 *
 * <p>Offline ({@code HF_HUB_OFFLINE=1}): a complete earlier download of the same repository and revision is returned
 * without any request; anything else fails with {@link HubException.Reason#OFFLINE}. When the endpoint is unreachable
 * such a download is returned as well, with a warning (as huggingface_hub falls back to its cache).
 *
 * <p>Safetensors shards: with the default selection and a {@code model.safetensors.index.json}, root-level
 * {@code .safetensors} files that its {@code weight_map} does not name (e.g. Mistral's
 * {@code consolidated.safetensors}, a second copy of the weights) are skipped unless an include glob names them.
 */
public final class HubDownload {

    /** What a run did. */
    public enum Status {
        /** The directory was created. */
        DOWNLOADED,
        /** An earlier download in the directory was replaced by another commit or selection. */
        UPDATED,
        /** The directory already held the commit and files asked for. */
        UP_TO_DATE,
        /** Offline mode or no network: an earlier complete download was returned unchecked against the Hub. */
        OFFLINE
    }

    /**
     * The outcome of a run.
     *
     * @param dir the directory holding the files
     * @param manifest what it holds
     * @param status what the run did
     * @param notSelected the repository's files that were not downloaded (empty when not listed, e.g. offline)
     * @param bytesDownloaded bytes fetched over the network by this run (resumed parts excluded)
     * @param filesDownloaded files fetched by this run
     * @param filesReused files taken from the earlier download in the directory
     */
    public record Result(Path dir, HubManifest manifest, Status status, List<RepoFile> notSelected,
            long bytesDownloaded, int filesDownloaded, int filesReused) {

        /**
         * Copies the list.
         *
         * @param dir the directory
         * @param manifest the manifest
         * @param status the status
         * @param notSelected files not downloaded
         * @param bytesDownloaded bytes fetched
         * @param filesDownloaded files fetched
         * @param filesReused files reused
         */
        public Result {
            notSelected = List.copyOf(notSelected);
        }
    }

    /** The index that maps tensor names to safetensors shards (transformers {@code SAFE_WEIGHTS_INDEX_NAME}). */
    public static final String SAFETENSORS_INDEX = "model.safetensors.index.json";

    private static final Logger LOG = LoggerFactory.getLogger(HubDownload.class);

    private final String repo;
    private final String revision;
    private final Path dir;
    private final FileSelection selection;
    private final HubClient client;
    private final boolean verify;

    private HubDownload(Builder b) {
        this.repo = b.repo;
        this.revision = b.revision;
        this.dir = b.dir.toAbsolutePath().normalize();
        this.selection = b.selection;
        this.client = b.client != null ? b.client : HubClient.builder().build();
        this.verify = b.verify;
    }

    /**
     * Returns a builder (revision {@code main}, default selection, a client from the process environment).
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Options of a {@link HubDownload}. */
    public static final class Builder {
        private String repo;
        private String revision = "main";
        private Path dir;
        private FileSelection selection = FileSelection.defaults();
        private HubClient client;
        private boolean verify;

        private Builder() {}

        /**
         * Sets the repository id.
         *
         * @param repo {@code namespace/name} (or a legacy {@code name})
         * @return this
         */
        public Builder setRepo(String repo) {
            HubClient.checkRepoId(repo);
            this.repo = repo;
            return this;
        }

        /**
         * Sets the revision.
         *
         * @param revision a branch, tag, {@code refs/pr/N} or commit id
         * @return this
         */
        public Builder optRevision(String revision) {
            if (revision == null || revision.isBlank()) {
                throw new IllegalArgumentException("revision must not be blank, got '" + revision + "'");
            }
            this.revision = revision;
            return this;
        }

        /**
         * Sets the directory the files go to.
         *
         * @param dir the directory (see {@link #defaultOutputDir})
         * @return this
         */
        public Builder setOutputDir(Path dir) {
            this.dir = Objects.requireNonNull(dir, "dir");
            if (dir.toAbsolutePath().normalize().getFileName() == null) {
                throw new IllegalArgumentException("output directory cannot be a root directory, got '" + dir + "'");
            }
            return this;
        }

        /**
         * Sets which files to download.
         *
         * @param selection the selection
         * @return this
         */
        public Builder optSelection(FileSelection selection) {
            this.selection = Objects.requireNonNull(selection, "selection");
            return this;
        }

        /**
         * Sets the client (endpoint, token, offline mode, timeouts, retries, progress).
         *
         * @param client the client
         * @return this
         */
        public Builder optClient(HubClient client) {
            this.client = Objects.requireNonNull(client, "client");
            return this;
        }

        /**
         * Sets whether a rerun re-hashes the files already in the directory (repairing any that changed) instead of
         * checking their sizes only.
         *
         * @param verify true to re-hash
         * @return this
         */
        public Builder optVerify(boolean verify) {
            this.verify = verify;
            return this;
        }

        /**
         * Builds the download.
         *
         * @return the download
         */
        public HubDownload build() {
            if (repo == null) {
                throw new IllegalArgumentException("repo is required (setRepo)");
            }
            if (dir == null) {
                throw new IllegalArgumentException("output directory is required (setOutputDir)");
            }
            return new HubDownload(this);
        }
    }

    /**
     * Returns the default directory of a repository under a cache root.
     *
     * @param cacheRoot e.g. {@link org.rlhf4j.datasets.download.CacheDirs#defaultRoot()}
     * @param repo the repository id
     * @return {@code <cacheRoot>/models/<namespace>--<name>} (ids never contain {@code --}, so this is unambiguous)
     */
    public static Path defaultOutputDir(Path cacheRoot, String repo) {
        HubClient.checkRepoId(repo);
        return cacheRoot.resolve("models").resolve(repo.replace("/", "--"));
    }

    /**
     * Runs the download.
     *
     * @return what was done and where the files are
     * @throws HubException on Hub errors, offline mode without the files, a directory holding something else, or
     *     weights in formats rlhf4j cannot read
     * @throws org.rlhf4j.core.checkpoint.DirectoryInUseException when another process owns the directory
     * @throws IOException on local failures
     */
    @SuppressWarnings("try") // the lock is held, not used
    public Result run() throws IOException {
        Files.createDirectories(dir.getParent());
        try (AtomicDirectory.Lock lock = AtomicDirectory.lock(dir)) {
            restoreInterruptedSwap();
            Optional<HubManifest> existing = existing();
            if (client.environment().offline()) {
                return offline(existing, "offline mode is on (HF_HUB_OFFLINE)", null);
            }
            if (existing.isPresent() && HubClient.isCommit(revision) && existing.get().commit().equals(revision)
                    && existing.get().sameSelection(selection) && complete(existing.get())) {
                return new Result(dir, existing.get(), Status.UP_TO_DATE, List.of(), 0, 0, 0);
            }
            String commit;
            try {
                commit = client.resolveCommit(repo, revision);
            } catch (HubException e) {
                if (e.reason() == HubException.Reason.UNREACHABLE || e.reason() == HubException.Reason.TIMEOUT) {
                    return offline(existing, e.getMessage(), e);
                }
                throw e;
            }
            List<RepoFile> all = client.listFiles(repo, commit);
            List<RepoFile> selected = new ArrayList<>();
            List<RepoFile> skipped = new ArrayList<>();
            for (RepoFile f : all) {
                if (f.path().equals(HubManifest.FILE_NAME)) {
                    LOG.warn("{}: the repository has a file named {}; it is not downloaded (rlhf4j's manifest has"
                            + " that name)", repo, HubManifest.FILE_NAME);
                    skipped.add(f);
                } else if (selection.selects(f.path())) {
                    selected.add(f);
                } else {
                    skipped.add(f);
                }
            }
            checkWeights(all, selected, commit);
            if (existing.isPresent() && existing.get().commit().equals(commit)
                    && existing.get().byPath().keySet().equals(expectedPaths(selected, existing.get()))
                    && complete(existing.get())) {
                HubManifest m = existing.get();
                if (!m.revision().equals(revision) || !m.sameSelection(selection)) {
                    m = new HubManifest(repo, revision, commit, m.endpoint(), selection.includes(),
                            selection.excludes(), selection.usesDefaults(), m.files());
                    m.write(dir);
                }
                return new Result(dir, m, Status.UP_TO_DATE, skipped, 0, 0, 0);
            }
            return stage(commit, selected, skipped, existing.orElse(null));
        }
    }

    private Result stage(String commit, List<RepoFile> selected, List<RepoFile> skipped, HubManifest existing)
            throws IOException {
        Path staging = dir.resolveSibling(dir.getFileName() + ".tmp-" + commit.substring(0, 12));
        Files.createDirectories(staging);
        Map<String, HubManifest.Entry> old = existing == null ? Map.of() : existing.byPath();
        List<RepoFile> todo = new ArrayList<>(selected);
        todo.sort(Comparator.comparing((RepoFile f) -> !f.path().equals(SAFETENSORS_INDEX))); // the index first
        long total = todo.stream().mapToLong(RepoFile::size).sum();
        LOG.info("{} at {} ({}): {} files, {} MB, into {}", repo, commit, revision, todo.size(),
                String.format(java.util.Locale.ROOT, "%.1f", total / 1e6), dir);
        warnOnLowDiskSpace(staging, total);
        List<HubManifest.Entry> entries = new ArrayList<>();
        List<RepoFile> notSelected = new ArrayList<>(skipped);
        Set<String> shards = null;
        long bytes = 0;
        int downloaded = 0;
        int reused = 0;
        for (RepoFile f : todo) {
            if (shards != null && isRootSafetensors(f.path()) && !shards.contains(f.path())
                    && !selection.explicitlyIncludes(f.path())) {
                LOG.info("{}: skipping {} ({} MB): {} does not name it, so it duplicates the shards (--include it to"
                        + " download it anyway)", repo, f.path(), f.size() / 1_000_000, SAFETENSORS_INDEX);
                notSelected.add(f);
                continue;
            }
            Path target = staging.resolve(f.path()).normalize();
            if (!target.startsWith(staging)) {
                throw new HubException(HubException.Reason.BAD_RESPONSE, "unsafe repository path '" + f.path() + "'");
            }
            String sha256;
            if (Files.isRegularFile(target) && Files.size(target) == f.size()) {
                // renamed into the staging directory only after it was verified (an earlier, interrupted run)
                sha256 = f.isLfs() ? f.lfsSha256() : HubClient.digests(target).sha256();
            } else if (reuse(old.get(f.path()), f, target)) {
                sha256 = f.isLfs() ? f.lfsSha256() : HubClient.digests(target).sha256();
                reused++;
            } else {
                sha256 = client.download(repo, commit, f, target);
                bytes += f.size();
                downloaded++;
            }
            entries.add(new HubManifest.Entry(f.path(), f.size(), sha256, f.gitOid(), f.isLfs()));
            if (f.path().equals(SAFETENSORS_INDEX) && selection.usesDefaults()) {
                shards = shardsOf(target);
            }
        }
        removeStrays(staging, entries);
        HubManifest manifest = new HubManifest(repo, revision, commit, client.environment().endpoint().toString(),
                selection.includes(), selection.excludes(), selection.usesDefaults(), entries);
        manifest.write(staging);
        Status status = existing != null ? Status.UPDATED : Status.DOWNLOADED;
        swapIn(staging);
        deleteStaleStaging();
        return new Result(dir, manifest, status, notSelected, bytes, downloaded, reused);
    }

    /** Warns when the disk cannot hold the files (file_download.py _check_disk_space only warns too). */
    private static void warnOnLowDiskSpace(Path staging, long total) {
        try {
            long usable = Files.getFileStore(staging).getUsableSpace();
            if (usable < total) {
                LOG.warn("{}: the files need {} MB but the disk has only {} MB free", staging, total / 1_000_000,
                        usable / 1_000_000);
            }
        } catch (IOException e) {
            LOG.debug("cannot read the free space of {}: {}", staging, e.getMessage());
        }
    }

    /** Hard-links (or copies) an unchanged file from the earlier download and re-hashes it. */
    private boolean reuse(HubManifest.Entry was, RepoFile f, Path target) throws IOException {
        if (was == null || was.size() != f.size()) {
            return false;
        }
        boolean same = f.isLfs() ? f.lfsSha256().equals(was.sha256()) : f.gitOid().equals(was.gitOid());
        Path source = dir.resolve(f.path());
        if (!same || !Files.isRegularFile(source) || Files.size(source) != f.size()) {
            return false;
        }
        Files.createDirectories(target.getParent());
        Files.deleteIfExists(target);
        try {
            Files.createLink(target, source);
        } catch (UnsupportedOperationException | FileSystemException e) {
            Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
        Optional<String> bad = HubClient.mismatch(target, f);
        if (bad.isPresent()) {
            LOG.warn("{}: {} in {}; downloading it again", repo, bad.get(), dir);
            Files.delete(target);
            return false;
        }
        return true;
    }

    private void checkWeights(List<RepoFile> all, List<RepoFile> selected, String commit) throws HubException {
        if (selection.isCustomised() || selected.stream().anyMatch(f -> f.path().endsWith(".safetensors"))) {
            return;
        }
        Map<String, List<String>> other = new java.util.TreeMap<>();
        for (RepoFile f : all) {
            FileSelection.otherWeightFormat(f.path())
                    .ifPresent(fmt -> other.computeIfAbsent(fmt, k -> new ArrayList<>()).add(f.path()));
        }
        if (other.isEmpty()) {
            return;
        }
        String found = other.entrySet().stream()
                .map(e -> e.getKey() + " (" + String.join(", ", e.getValue().stream().limit(3).toList())
                        + (e.getValue().size() > 3 ? ", …" : "") + ")")
                .collect(Collectors.joining("; "));
        String page = client.environment().endpoint() + "/" + repo;
        throw new HubException(HubException.Reason.NO_SAFETENSORS, repo + " at " + commit + " has no .safetensors"
                + " weights, only " + found + "; rlhf4j reads safetensors only. Look for a converted revision (the"
                + " Hub's safetensors bot opens pull requests: " + page + "/discussions, then --revision refs/pr/N),"
                + " or convert it with transformers (AutoModelForCausalLM.from_pretrained(DIR).save_pretrained(OUT,"
                + " safe_serialization=True))" + (other.containsKey("GGUF") ? ", or import a GGUF file with rlhf4j"
                + " model import-gguf" : "") + ". --include GLOB downloads the files anyway.");
    }

    private static boolean isRootSafetensors(String path) {
        return path.indexOf('/') < 0 && path.endsWith(".safetensors");
    }

    /** The shard files named by an index's {@code weight_map} (transformers {@code load_sharded_checkpoint}). */
    static Set<String> shardsOf(Path index) throws IOException {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(index.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(index, "not valid JSON (" + e.getMessage() + ")", e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new ModelFormatException(index, "field 'weight_map': missing or not an object");
        }
        Set<String> out = new TreeSet<>();
        for (var it = map.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().isTextual()) {
                throw new ModelFormatException(index, "field 'weight_map." + e.getKey() + "': not a file name");
            }
            out.add(e.getValue().asText());
        }
        return out;
    }

    private Result offline(Optional<HubManifest> existing, String why, HubException cause) throws HubException {
        if (existing.isPresent() && (existing.get().revision().equals(revision)
                || existing.get().commit().equals(revision)) && complete(existing.get())) {
            LOG.warn("{}: {}; using the earlier download of {} at {} in {} unchecked against the Hub", repo,
                    cause == null ? why : "the Hub is unreachable", revision, existing.get().commit(), dir);
            return new Result(dir, existing.get(), Status.OFFLINE, List.of(), 0, 0, 0);
        }
        String have = existing.map(m -> " (" + dir + " holds revision '" + m.revision() + "' at " + m.commit()
                + (complete(m) ? "" : ", incomplete") + ")").orElse(" (" + dir + " holds no download)");
        if (cause != null) {
            throw new HubException(cause.reason(), cause.status(), why + have, cause);
        }
        throw new HubException(HubException.Reason.OFFLINE, why + ": " + repo + " at '" + revision + "' is not"
                + " available offline" + have + ". Unset HF_HUB_OFFLINE to download it, or copy a download made"
                + " elsewhere (rlhf4j model download " + repo + " --out DIR) to " + dir + ".");
    }

    private Optional<HubManifest> existing() throws IOException {
        if (!Files.exists(dir)) {
            return Optional.empty();
        }
        if (!Files.isDirectory(dir)) {
            throw new HubException(HubException.Reason.OUTPUT_CONFLICT, dir + " exists and is not a directory;"
                    + " choose another output directory");
        }
        Optional<HubManifest> m = HubManifest.read(dir);
        if (m.isEmpty()) {
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    throw new HubException(HubException.Reason.OUTPUT_CONFLICT, dir + " is not empty and holds no "
                            + HubManifest.FILE_NAME + " (it was not written by a model download); choose another"
                            + " output directory or delete it");
                }
            }
            return Optional.empty();
        }
        if (!m.get().repo().equals(repo)) {
            throw new HubException(HubException.Reason.OUTPUT_CONFLICT, dir + " holds a download of "
                    + m.get().repo() + ", not " + repo + "; choose another output directory");
        }
        return m;
    }

    /** Whether every recorded file is present with its size (and, when verifying, its sha256). */
    private boolean complete(HubManifest m) {
        try {
            for (HubManifest.Entry e : m.files()) {
                Path p = dir.resolve(e.path());
                if (!Files.isRegularFile(p) || Files.size(p) != e.size()) {
                    LOG.info("{}: {} is missing or has changed size", dir, e.path());
                    return false;
                }
                if (verify && !HubClient.digests(p).sha256().equals(e.sha256())) {
                    LOG.warn("{}: {} does not match its recorded sha256", dir, e.path());
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            LOG.warn("{}: cannot check the files ({})", dir, e.getMessage());
            return false;
        }
    }

    /**
     * The paths a download of {@code selected} into the directory holds: without the root-level safetensors files
     * that the directory's index (same commit, so same content) leaves out.
     */
    private Set<String> expectedPaths(List<RepoFile> selected, HubManifest m) {
        Set<String> s = new HashSet<>();
        selected.forEach(f -> s.add(f.path()));
        if (selection.usesDefaults() && m.byPath().containsKey(SAFETENSORS_INDEX)) {
            try {
                Set<String> shards = shardsOf(dir.resolve(SAFETENSORS_INDEX));
                s.removeIf(p -> isRootSafetensors(p) && !shards.contains(p) && !selection.explicitlyIncludes(p));
            } catch (IOException e) {
                LOG.warn("{}: {}", dir, e.getMessage());
            }
        }
        return s;
    }

    /** Deletes files in the staging directory that are not part of this snapshot (leftovers of other selections). */
    private static void removeStrays(Path staging, List<HubManifest.Entry> entries) throws IOException {
        Set<Path> keep = new LinkedHashSet<>();
        entries.forEach(e -> keep.add(staging.resolve(e.path()).normalize()));
        List<Path> strays;
        try (Stream<Path> s = Files.walk(staging)) {
            strays = s.filter(Files::isRegularFile).filter(p -> !keep.contains(p.normalize())).toList();
        }
        for (Path p : strays) {
            LOG.info("{}: removing {} (not part of this download)", staging, staging.relativize(p));
            Files.delete(p);
        }
        List<Path> dirs;
        try (Stream<Path> s = Files.walk(staging)) {
            dirs = s.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList();
        }
        for (Path d : dirs) {
            if (!d.equals(staging)) {
                try (Stream<Path> s = Files.list(d)) {
                    if (s.findAny().isEmpty()) {
                        Files.delete(d);
                    }
                }
            }
        }
    }

    /** NAME to NAME.old, staging to NAME, delete NAME.old: AtomicDirectory's protocol. */
    private void swapIn(Path staging) throws IOException {
        Path old = dir.resolveSibling(dir.getFileName() + ".old");
        if (Files.exists(dir)) {
            AtomicDirectory.deleteTree(old);
            move(dir, old);
        }
        move(staging, dir);
        AtomicDirectory.deleteTree(old);
    }

    private void restoreInterruptedSwap() throws IOException {
        Path old = dir.resolveSibling(dir.getFileName() + ".old");
        if (!Files.exists(dir) && Files.exists(old)) {
            LOG.info("{}: restoring the earlier download from an interrupted update", dir);
            move(old, dir);
        } else if (Files.exists(old)) {
            AtomicDirectory.deleteTree(old);
        }
    }

    private void deleteStaleStaging() throws IOException {
        String prefix = dir.getFileName() + ".tmp-";
        List<Path> stale;
        try (Stream<Path> s = Files.list(dir.getParent())) {
            stale = s.filter(p -> p.getFileName().toString().startsWith(prefix)
                    && p.getFileName().toString().substring(prefix.length()).matches("[0-9a-f]{12}")).toList();
        }
        for (Path p : stale) {
            LOG.info("{}: deleting the unfinished download {}", dir, p.getFileName());
            AtomicDirectory.deleteTree(p);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }
}
