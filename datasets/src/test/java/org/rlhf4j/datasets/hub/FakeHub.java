package org.rlhf4j.datasets.hub;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.rlhf4j.core.io.Json;

/**
 * A loopback Hugging Face Hub: the revision, tree and resolve endpoints on one server, LFS files redirected to a
 * second server (the "CDN"), plus knobs for the failures a real download meets.
 */
final class FakeHub implements AutoCloseable {

    /** One request as a server saw it. */
    record Request(String server, String path, String range, String authorization) {}

    /** A repository: revisions to commits, and each commit's files. */
    static final class Repo {
        final Map<String, String> refs = new ConcurrentHashMap<>();
        final Map<String, Map<String, byte[]>> commits = new ConcurrentHashMap<>();
        final Set<String> lfs = ConcurrentHashMap.newKeySet();
        volatile boolean gated;

        Repo commit(String sha, Map<String, byte[]> files, String... lfsPaths) {
            commits.put(sha, new LinkedHashMap<>(files));
            lfs.addAll(List.of(lfsPaths));
            return this;
        }
    }

    final HttpServer hub;
    final HttpServer cdn;
    private final ExecutorService pool = Executors.newCachedThreadPool();
    final Map<String, Repo> repos = new ConcurrentHashMap<>();
    final List<Request> requests = new CopyOnWriteArrayList<>();
    /** The token a gated repository accepts. */
    volatile String acceptedToken = "hf_secret_token_123";
    /** Tree entries per page (0: one page). */
    volatile int pageSize;
    /** Answer the next N resolve requests with this status (429 or 5xx). */
    final AtomicInteger failNext = new AtomicInteger();
    volatile int failStatus = 429;
    volatile String retryAfter;
    /** Cut the next CDN body after this many bytes (-1: no cut). */
    final AtomicInteger cutAfter = new AtomicInteger(-1);
    /** Stall the next N bodies: a whole one after half of it, a resumed one at once. */
    final AtomicInteger stallNext = new AtomicInteger();
    final CountDownLatch released = new CountDownLatch(1);
    /** Serve these bytes instead of the real content, by path. */
    final Map<String, byte[]> corrupt = new ConcurrentHashMap<>();
    /** Extra raw tree entries (e.g. unsafe paths). */
    final List<ObjectNode> extraEntries = new CopyOnWriteArrayList<>();
    volatile boolean honourRange = true;
    /** Answer every request carrying a token with 401 "Invalid credentials in Authorization header". */
    volatile boolean rejectTokens;
    /** Renamed repositories (old id to new id): their URLs answer 307 with a relative Location, as the Hub does. */
    final Map<String, String> renamed = new ConcurrentHashMap<>();

    FakeHub() throws IOException {
        hub = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        cdn = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        hub.setExecutor(pool);
        cdn.setExecutor(pool);
        hub.createContext("/", ex -> handle(ex, this::hub));
        cdn.createContext("/", ex -> handle(ex, this::cdn));
        hub.start();
        cdn.start();
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + hub.getAddress().getPort());
    }

    Repo repo(String id) {
        return repos.computeIfAbsent(id, k -> new Repo());
    }

    List<Request> requests(String server) {
        return requests.stream().filter(r -> r.server().equals(server)).toList();
    }

    @Override
    public void close() {
        released.countDown();
        hub.stop(0);
        cdn.stop(0);
        pool.shutdownNow();
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String gitOid(byte[] b) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-1");
            md.update(("blob " + b.length + "\0").getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(md.digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    interface Handler {
        void handle(HttpExchange ex) throws IOException;
    }

    private void handle(HttpExchange ex, Handler h) throws IOException {
        try (ex) {
            requests.add(new Request(ex.getHttpContext().getServer() == hub ? "hub" : "cdn",
                    ex.getRequestURI().getRawPath(), ex.getRequestHeaders().getFirst("Range"),
                    ex.getRequestHeaders().getFirst("Authorization")));
            h.handle(ex);
        }
    }

    private static void error(HttpExchange ex, int status, String code, String message) throws IOException {
        if (code != null) {
            ex.getResponseHeaders().add("X-Error-Code", code);
        }
        if (message != null) {
            ex.getResponseHeaders().add("X-Error-Message", message);
        }
        byte[] body = ("{\"error\":\"" + (message == null ? "error" : message) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, body.length);
        ex.getResponseBody().write(body);
    }

    private static void json(HttpExchange ex, Object node) throws IOException {
        byte[] body = Json.compact(node).getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(200, body.length);
        ex.getResponseBody().write(body);
    }

    private static String dec(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private void hub(HttpExchange ex) throws IOException {
        String raw = ex.getRequestURI().getRawPath();
        if (rejectTokens && ex.getRequestHeaders().getFirst("Authorization") != null) {
            error(ex, 401, null, "Invalid credentials in Authorization header");
            return;
        }
        for (Map.Entry<String, String> r : renamed.entrySet()) {
            for (String prefix : new String[] {"/api/models/", "/"}) {
                if (raw.startsWith(prefix + r.getKey() + "/")) {
                    String q = ex.getRequestURI().getRawQuery();
                    ex.getResponseHeaders().add("Location", prefix + r.getValue()
                            + raw.substring(prefix.length() + r.getKey().length()) + (q == null ? "" : "?" + q));
                    ex.sendResponseHeaders(307, -1);
                    return;
                }
            }
        }
        String[] p = raw.substring(1).split("/", -1);
        if (p.length >= 6 && p[0].equals("api") && p[1].equals("models")) {
            String id = p[2] + "/" + p[3];
            Repo r = repos.get(id);
            if (r == null) {
                error(ex, 404, "RepoNotFound", "Repository not found");
                return;
            }
            String rev = dec(p[5]);
            String commit = r.commits.containsKey(rev) ? rev : r.refs.get(rev);
            if (commit == null) {
                error(ex, 404, "RevisionNotFound", "Invalid rev id: " + rev);
                return;
            }
            if (p[4].equals("revision")) {
                ObjectNode info = Json.MAPPER.createObjectNode();
                info.put("id", id);
                info.put("sha", commit);
                info.put("gated", r.gated ? "manual" : "false");
                json(ex, info);
            } else if (p[4].equals("tree")) {
                tree(ex, id, commit, r);
            } else {
                error(ex, 404, null, "no such API");
            }
            return;
        }
        if (p.length >= 5 && p[2].equals("resolve")) {
            String id = p[0] + "/" + p[1];
            Repo r = repos.get(id);
            if (r == null) {
                error(ex, 401, "RepoNotFound", "Repository not found");
                return;
            }
            if (r.gated) {
                String auth = ex.getRequestHeaders().getFirst("Authorization");
                if (auth == null) {
                    error(ex, 401, "GatedRepo", "Access to model " + id + " is restricted. You must have access to"
                            + " it and be authenticated to access it. Please log in.");
                    return;
                }
                if (!auth.equals("Bearer " + acceptedToken)) {
                    error(ex, 403, "GatedRepo", "Access to model " + id + " is restricted and you are not in the"
                            + " authorized list. Visit https://huggingface.co/" + id + " to ask for access.");
                    return;
                }
            }
            if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                if (retryAfter != null) {
                    ex.getResponseHeaders().add("Retry-After", retryAfter);
                }
                error(ex, failStatus, null, "slow down");
                return;
            }
            String commit = dec(p[3]);
            Map<String, byte[]> files = r.commits.get(commit);
            StringBuilder path = new StringBuilder();
            for (int i = 4; i < p.length; i++) {
                path.append(i > 4 ? "/" : "").append(dec(p[i]));
            }
            byte[] content = files == null ? null : files.get(path.toString());
            if (content == null) {
                error(ex, 404, "EntryNotFound", "Entry not found");
                return;
            }
            ex.getResponseHeaders().add("X-Repo-Commit", commit);
            if (r.lfs.contains(path.toString())) {
                String sha = sha256(content);
                ex.getResponseHeaders().add("X-Linked-Etag", "\"" + sha + "\"");
                ex.getResponseHeaders().add("X-Linked-Size", String.valueOf(content.length));
                ex.getResponseHeaders().add("Location", "http://127.0.0.1:" + cdn.getAddress().getPort() + "/blobs/"
                        + sha + "?path=" + path + "&X-Amz-Signature=abc");
                ex.sendResponseHeaders(302, -1);
                return;
            }
            ex.getResponseHeaders().add("ETag", "\"" + gitOid(content) + "\"");
            serve(ex, corrupt.getOrDefault(path.toString(), content), false);
            return;
        }
        error(ex, 404, null, "not found");
    }

    private void tree(HttpExchange ex, String id, String commit, Repo r) throws IOException {
        List<ObjectNode> entries = new ArrayList<>();
        Set<String> dirs = new TreeSet<>();
        for (Map.Entry<String, byte[]> f : r.commits.get(commit).entrySet()) {
            String path = f.getKey();
            for (int i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
                dirs.add(path.substring(0, i));
            }
            ObjectNode n = Json.MAPPER.createObjectNode();
            n.put("type", "file");
            byte[] c = f.getValue();
            if (r.lfs.contains(path)) {
                String pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:" + sha256(c) + "\nsize "
                        + c.length + "\n";
                n.put("oid", gitOid(pointer.getBytes(StandardCharsets.UTF_8)));
                n.put("size", c.length);
                ObjectNode lfs = n.putObject("lfs");
                lfs.put("oid", sha256(c));
                lfs.put("size", c.length);
                lfs.put("pointerSize", pointer.length());
            } else {
                n.put("oid", gitOid(c));
                n.put("size", c.length);
            }
            n.put("path", path);
            entries.add(n);
        }
        for (String d : dirs) {
            ObjectNode n = Json.MAPPER.createObjectNode();
            n.put("type", "directory");
            n.put("oid", "0".repeat(40));
            n.put("size", 0);
            n.put("path", d);
            entries.add(n);
        }
        entries.addAll(extraEntries);
        String query = ex.getRequestURI().getRawQuery();
        int cursor = 0;
        if (query != null && query.contains("cursor=")) {
            cursor = Integer.parseInt(query.substring(query.indexOf("cursor=") + 7).split("&")[0]);
        }
        int size = pageSize > 0 ? pageSize : entries.size();
        int end = Math.min(entries.size(), cursor + size);
        if (end < entries.size()) {
            ex.getResponseHeaders().add("Link", "<" + endpoint() + "/api/models/" + id + "/tree/" + commit
                    + "?recursive=true&expand=false&cursor=" + end + ">; rel=\"next\"");
        }
        ArrayNode arr = Json.MAPPER.createArrayNode();
        entries.subList(cursor, end).forEach(arr::add);
        json(ex, arr);
    }

    private void cdn(HttpExchange ex) throws IOException {
        String path = dec(ex.getRequestURI().getRawQuery().split("&")[0].substring("path=".length()));
        for (Repo r : repos.values()) {
            for (Map<String, byte[]> files : r.commits.values()) {
                byte[] c = files.get(path);
                if (c != null && ex.getRequestURI().getPath().equals("/blobs/" + sha256(c))) {
                    serve(ex, corrupt.getOrDefault(path, c), true);
                    return;
                }
            }
        }
        error(ex, 404, null, "no such blob");
    }

    /** Serves content with Range support; the cut and stall knobs apply to the CDN only. */
    private void serve(HttpExchange ex, byte[] content, boolean knobs) throws IOException {
        String range = ex.getRequestHeaders().getFirst("Range");
        int start = 0;
        if (range != null && honourRange) {
            start = Integer.parseInt(range.substring("bytes=".length(), range.length() - 1));
            if (start >= content.length) {
                ex.sendResponseHeaders(416, -1);
                return;
            }
            ex.getResponseHeaders().add("Content-Range", "bytes " + start + "-" + (content.length - 1) + "/"
                    + content.length);
            ex.sendResponseHeaders(206, content.length - start);
        } else {
            ex.sendResponseHeaders(200, content.length == 0 ? -1 : content.length);
        }
        OutputStream out = ex.getResponseBody();
        int len = content.length - start;
        int cut = knobs ? cutAfter.getAndSet(-1) : -1;
        if (cut >= 0 && cut < len) {
            out.write(content, start, cut);
            out.flush();
            throw new IOException("simulated disconnect"); // the exchange closes with bytes still owed
        }
        if (knobs && stallNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            out.write(content, start, start == 0 ? len / 2 : 0); // a resumed request stalls at once
            out.flush();
            try {
                released.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("simulated stall");
        }
        out.write(content, start, len);
    }
}
