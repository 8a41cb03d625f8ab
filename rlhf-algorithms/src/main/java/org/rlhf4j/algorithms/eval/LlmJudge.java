package org.rlhf4j.algorithms.eval;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.rlhf4j.core.io.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A judge backed by an LLM behind an OpenAI-compatible Chat Completions API ({@code POST {baseUrl}/chat/completions}
 * with {@code model}, one user message, {@code temperature} 0 and {@code max_tokens}): OpenAI, or a local server
 * such as vLLM or llama.cpp ({@code http://localhost:8000/v1}). A query string in the base URL is kept after the
 * appended path: {@code https://h/openai/deployments/x?api-version=2024-02-01} posts to
 * {@code https://h/openai/deployments/x/chat/completions?api-version=2024-02-01}.
 *
 * <p>Every matchup is asked in both presentation orders, A first and B first; the answers are mapped back to the
 * matchup's labels and combined by {@link Judgement#bothOrders}: agreeing answers give the verdict, disagreeing ones
 * a tie (position-inconsistent, the LLM followed the position rather than the content), and a malformed reply (no
 * parsable choice, a body that is not a Chat Completions object, no choices) makes the matchup invalid; a choice is
 * never guessed. See {@link JudgeTemplate#parseChoice}.
 *
 * <p>Robustness: each request has a total deadline, {@code requestTimeout}, from connecting to the last byte of the
 * answer, so a server that sends its headers and then stalls is a timeout too (the exchange is cancelled); HTTP 408,
 * 429 and 5xx answers, timeouts and I/O errors are retried up to {@code maxRetries} times after an exponential backoff
 * min(max, initial·2^k) with "equal jitter" (half fixed, half uniform from a seeded RNG), at least a 429's
 * {@code Retry-After}; other HTTP errors fail at once.
 *
 * <p>Replies are stored in a {@link JudgeCache} keyed by the SHA-256 of the request body, which is canonical JSON
 * ({@link JudgeCache#canonicalJson}: keys sorted at every level, no whitespace), so the same question has the same key
 * in every JVM and a rerun (or a resumed interrupted run) sends no request twice. Entries written by earlier versions,
 * whose body had its keys in another order, are still found (and copied under the canonical key).
 *
 * <p>Secrets: the API key is sent as {@code Authorization: Bearer} and never appears in messages, exceptions, logs,
 * {@link #describe()} or the cache. A server that echoes it back (in an error or in a 200 answer) has every occurrence
 * replaced by {@code ***} before the text is used, shown, thrown or cached, and a warning says so (without the key).
 *
 * <p>Settings not given to the builder come from the environment: {@value #ENV_BASE_URL} (default
 * {@value #DEFAULT_BASE_URL}), {@value #ENV_MODEL} (required one way or the other), {@value #ENV_API_KEY}, then
 * {@value #ENV_OPENAI_API_KEY}. Not thread-safe.
 */
public final class LlmJudge implements Judge, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LlmJudge.class);

    /** Environment variable of the base URL. */
    public static final String ENV_BASE_URL = "RLHF4J_JUDGE_BASE_URL";

    /** Environment variable of the model name. */
    public static final String ENV_MODEL = "RLHF4J_JUDGE_MODEL";

    /** Environment variable of the API key. */
    public static final String ENV_API_KEY = "RLHF4J_JUDGE_API_KEY";

    /** Fallback environment variable of the API key. */
    public static final String ENV_OPENAI_API_KEY = "OPENAI_API_KEY";

    /** The base URL used when none is configured. */
    public static final String DEFAULT_BASE_URL = "https://api.openai.com/v1";

    private static final int DETAIL_CHARS = 400;

    /**
     * Counters of a judge's work.
     *
     * @param questions questions asked (two per matchup), answered from the cache or over HTTP
     * @param cacheHits questions answered from the cache
     * @param httpRequests HTTP requests sent, retries included
     * @param retries requests repeated after a retryable failure
     * @param invalidAnswers answers without a usable choice
     */
    public record Stats(long questions, long cacheHits, long httpRequests, long retries, long invalidAnswers) {}

    /**
     * An answer: the reply text, or null with the reason it is unusable.
     *
     * @param content the reply text (API key redacted), or null when the answer had no usable body
     * @param problem why there is no content (e.g. {@code response has no choices}), or null
     */
    public record Reply(String content, String problem) {}

    private final URI endpoint;
    private final String baseUrlForDisplay;
    private final String model;
    private final String apiKey;
    private final JudgeTemplate template;
    private final Duration requestTimeout;
    private final int maxRetries;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final int maxTokens;
    private final SplittableRandom jitter;
    private final JudgeCache cache;
    private final boolean ownsCache;
    private final Consumer<String> warnings;
    private final HttpClient client;
    private long questions;
    private long cacheHits;
    private long httpRequests;
    private long retries;
    private long invalidAnswers;

    private LlmJudge(Builder b, String baseUrl, String model, String apiKey, JudgeCache cache, boolean ownsCache) {
        this.apiKey = apiKey;
        this.endpoint = endpoint(baseUrl);
        if (endpoint.getScheme() == null || !(endpoint.getScheme().equals("http") || endpoint.getScheme().equals("https"))) {
            throw new IllegalArgumentException("judge base URL must be http(s)://..., got '" + display(baseUrl) + "'");
        }
        this.baseUrlForDisplay = display(baseUrl);
        this.model = model;
        this.template = b.template;
        this.requestTimeout = b.requestTimeout;
        this.maxRetries = b.maxRetries;
        this.initialBackoff = b.initialBackoff;
        this.maxBackoff = b.maxBackoff;
        this.maxTokens = b.maxTokens;
        this.jitter = new SplittableRandom(b.seed);
        this.cache = cache;
        this.ownsCache = ownsCache;
        Consumer<String> sink = b.warnings;
        this.warnings = msg -> {
            String clean = redact(msg);
            LOG.warn(clean);
            if (sink != null) {
                sink.accept(clean);
            }
        };
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(requestTimeout)
                .build();
    }

    /**
     * Returns the Chat Completions URL of a base URL: {@code /chat/completions} appended to its path, before its query
     * string if it has one (a fragment is dropped: it is never sent).
     *
     * @param baseUrl e.g. {@code https://api.openai.com/v1} or {@code https://h/openai/deployments/x?api-version=1}
     * @return e.g. {@code https://h/openai/deployments/x/chat/completions?api-version=1}
     * @throws IllegalArgumentException when the result is not a URI
     */
    static URI endpoint(String baseUrl) {
        String url = baseUrl;
        int hash = url.indexOf('#');
        if (hash >= 0) {
            url = url.substring(0, hash);
        }
        int q = url.indexOf('?');
        String query = q >= 0 ? url.substring(q) : "";
        String path = q >= 0 ? url.substring(0, q) : url;
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        try {
            return new URI(path + "/chat/completions" + query);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("judge base URL '" + display(baseUrl) + "' is not a URL: "
                    + e.getReason(), e);
        }
    }

    /**
     * Returns a builder.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** {@inheritDoc} */
    @Override
    public Judgement judge(Matchup m) {
        Reply first = ask(template.render(m.post(), m.a(), m.b()));
        Reply second = ask(template.render(m.post(), m.b(), m.a()));
        Verdict ab = verdict(first);
        Verdict ba = verdict(second).swapped();
        String detail = "A first: " + excerpt(first) + " | B first: " + excerpt(second);
        return Judgement.bothOrders(ab, ba, detail);
    }

    private Verdict verdict(Reply r) {
        Verdict v = r.content() == null ? Verdict.INVALID : JudgeTemplate.parseChoice(r.content());
        if (v == Verdict.INVALID) {
            invalidAnswers++;
        }
        return v;
    }

    private static String excerpt(Reply r) {
        String s = r.content() != null ? r.content().strip() : "<" + r.problem() + ">";
        return s.length() <= DETAIL_CHARS ? s : s.substring(0, DETAIL_CHARS) + "…";
    }

    /**
     * Returns the exact JSON body sent for a prompt (the cache key is its SHA-256): canonical JSON, the same bytes in
     * every JVM, e.g. {@code {"max_tokens":256,"messages":[{"content":"...","role":"user"}],"model":"m",
     * "temperature":0}}.
     *
     * @param prompt the filled template
     * @return the request body
     */
    public String requestBody(String prompt) {
        return JudgeCache.canonicalJson(Map.of("model", model, "messages",
                List.of(Map.of("role", "user", "content", prompt)), "temperature", 0, "max_tokens", maxTokens));
    }

    /**
     * Returns the cache keys earlier versions used for a prompt: their body was a map in insertion order (model,
     * messages, temperature, max_tokens) with the message's two fields in either order, depending on the JVM.
     */
    private List<String> legacyKeys(String prompt) {
        String[][] orders = {{"role", "content"}, {"content", "role"}};
        String[] keys = new String[2];
        for (int i = 0; i < 2; i++) {
            Map<String, Object> message = new LinkedHashMap<>();
            for (String f : orders[i]) {
                message.put(f, f.equals("role") ? "user" : prompt);
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("model", model);
            body.put("messages", List.of(message));
            body.put("temperature", 0);
            body.put("max_tokens", maxTokens);
            keys[i] = JudgeCache.key(Json.compact(body));
        }
        return List.of(keys);
    }

    /**
     * Asks one free-form question through this judge's client: the same request body, cache, retries, deadline and
     * redaction as the pairwise questions, counted in {@link #stats()} (questions, cache hits, requests). Other judges
     * that send their own prompts (the {@link GroundingJudge}) use it instead of a second HTTP client.
     *
     * @param prompt the filled prompt
     * @return the reply, or its problem
     * @throws JudgeException when the endpoint fails after all retries or refuses the request
     */
    public Reply complete(String prompt) {
        return ask(prompt);
    }

    private Reply ask(String prompt) {
        questions++;
        String body = requestBody(prompt);
        String key = JudgeCache.key(body);
        if (cache != null) {
            String hit = cache.get(key);
            if (hit == null) {
                for (String old : legacyKeys(prompt)) {
                    hit = cache.get(old);
                    if (hit != null) {
                        hit = withoutKey(hit);
                        cache.put(key, hit); // migrate: the next run finds it under the canonical key
                        break;
                    }
                }
            }
            if (hit != null) {
                cacheHits++;
                return new Reply(withoutKey(hit), null);
            }
        }
        Reply r = post(body);
        if (cache != null && r.content() != null) {
            cache.put(key, r.content());
        }
        return r;
    }

    /** The text with every occurrence of the API key replaced, warning (without the key) when there was one. */
    private String withoutKey(String text) {
        String clean = redact(text);
        if (!clean.equals(text)) {
            warnings.accept("LLM judge: the answer contained the API key; every occurrence was replaced by *** before"
                    + " the answer was used or cached (check the server at " + baseUrlForDisplay + ")");
        }
        return clean;
    }

    private Reply post(String body) {
        HttpRequest.Builder rb = HttpRequest.newBuilder(endpoint).timeout(requestTimeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (apiKey != null) {
            rb.header("Authorization", "Bearer " + apiKey);
        }
        HttpRequest request = rb.build();
        String lastError = null;
        Throwable lastCause = null;
        for (int attempt = 0; ; attempt++) {
            long retryAfterMs = 0;
            try {
                httpRequests++;
                HttpResponse<String> resp = sendWithDeadline(request);
                int status = resp.statusCode();
                if (status >= 200 && status < 300) {
                    return parse(resp.body());
                }
                String what = "HTTP " + status + " " + oneLine(resp.body());
                if (!(status == 408 || status == 429 || status >= 500)) {
                    throw new JudgeException("LLM judge at " + baseUrlForDisplay + " refused the request: "
                            + redact(what), null);
                }
                lastError = what;
                lastCause = null;
                retryAfterMs = retryAfterMillis(resp);
            } catch (HttpTimeoutException e) {
                lastError = "no complete answer within the request timeout of " + requestTimeout.toMillis()
                        + " ms (a deadline for connecting, the headers and the whole body)";
                lastCause = e;
            } catch (IOException e) {
                lastError = "I/O error: " + e;
                lastCause = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new JudgeException("interrupted while waiting for the LLM judge", e);
            }
            if (attempt >= maxRetries) {
                throw new JudgeException("LLM judge at " + baseUrlForDisplay + " failed after " + (attempt + 1)
                        + " attempts (maxRetries=" + maxRetries + "); last error: " + redact(lastError), lastCause);
            }
            long delay = Math.max(backoffMillis(attempt), retryAfterMs);
            retries++;
            warnings.accept("LLM judge: " + lastError + "; retry " + (attempt + 1) + "/" + maxRetries + " in " + delay
                    + " ms");
            sleep(delay);
        }
    }

    /**
     * Sends a request and reads the whole answer within {@code requestTimeout}; past the deadline the exchange is
     * cancelled (closing its connection) and an {@link HttpTimeoutException} thrown. {@link HttpRequest#timeout} alone
     * stops waiting once the headers arrive, so it does not cover a server that stalls in the middle of the body.
     */
    private HttpResponse<String> sendWithDeadline(HttpRequest request) throws IOException, InterruptedException {
        CompletableFuture<HttpResponse<String>> f =
                client.sendAsync(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        try {
            return f.get(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            HttpTimeoutException t = new HttpTimeoutException("request deadline of " + requestTimeout.toMillis()
                    + " ms passed");
            t.initCause(e);
            throw t;
        } catch (InterruptedException e) {
            f.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof RuntimeException r) {
                throw r;
            }
            throw new IOException(String.valueOf(c), c);
        }
    }

    private Reply parse(String body) {
        JsonNode n;
        try {
            n = Json.MAPPER.readTree(body);
        } catch (IOException e) {
            return new Reply(null, "response body is not JSON");
        }
        JsonNode choices = n == null ? null : n.get("choices");
        if (choices == null || !choices.isArray() || choices.isEmpty()) {
            return new Reply(null, "response has no choices");
        }
        JsonNode content = choices.get(0).path("message").path("content");
        if (!content.isTextual()) {
            return new Reply(null, "response has no message content");
        }
        return new Reply(withoutKey(content.asText()), null);
    }

    // package-private for tests: the delay before retry number k+1
    long backoffMillis(int k) {
        long base = initialBackoff.toMillis();
        long cap = maxBackoff.toMillis();
        long b = k >= 62 ? cap : Math.min(cap, base << Math.min(k, 30));
        long half = b / 2;
        return half + jitter.nextLong(b - half + 1);
    }

    private long retryAfterMillis(HttpResponse<String> resp) {
        return resp.headers().firstValue("Retry-After").map(v -> {
            try {
                return Math.min(maxBackoff.toMillis(), Long.parseLong(v.trim()) * 1000L);
            } catch (NumberFormatException e) {
                return 0L;
            }
        }).orElse(0L);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JudgeException("interrupted during retry backoff", e);
        }
    }

    private static String oneLine(String s) {
        String t = s == null ? "" : s.replaceAll("\\s+", " ").strip();
        return t.length() <= 200 ? t : t.substring(0, 200) + "…";
    }

    private String redact(String s) {
        if (s == null || apiKey == null || apiKey.isEmpty()) {
            return s;
        }
        return s.replace(apiKey, "***");
    }

    private static String display(String url) {
        // drop user info and query, which could carry credentials, the fragment and trailing slashes
        String d = url.replaceFirst("//[^/@]*@", "//").replaceFirst("[?#].*$", "");
        while (d.endsWith("/")) {
            d = d.substring(0, d.length() - 1);
        }
        return d;
    }

    /**
     * Returns the counters so far.
     *
     * @return the stats
     */
    public Stats stats() {
        return new Stats(questions, cacheHits, httpRequests, retries, invalidAnswers);
    }

    /**
     * Returns the template.
     *
     * @return the template
     */
    public JudgeTemplate template() {
        return template;
    }

    /**
     * Returns the model name sent in requests.
     *
     * @return the model
     */
    public String model() {
        return model;
    }

    /**
     * Returns the base URL as shown in reports: without user info, query string or fragment.
     *
     * @return e.g. {@code http://localhost:8000/v1}
     */
    public String baseUrlForDisplay() {
        return baseUrlForDisplay;
    }

    /** {@inheritDoc} */
    @Override
    public String describe() {
        return "llm:" + model + "/" + template.id() + " at " + baseUrlForDisplay;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return describe();
    }

    /** Closes the cache when the judge opened it. */
    @Override
    public void close() {
        if (ownsCache && cache != null) {
            cache.close();
        }
    }

    /** Builder of {@link LlmJudge}: every setting is optional ({@code optX}); see the class comment for defaults. */
    public static final class Builder {
        private String baseUrl;
        private String model;
        private String apiKey;
        private JudgeTemplate template = JudgeTemplate.DPO_CONCISE;
        private Duration requestTimeout = Duration.ofSeconds(60);
        private int maxRetries = 6;
        private Duration initialBackoff = Duration.ofSeconds(1);
        private Duration maxBackoff = Duration.ofSeconds(60);
        private int maxTokens = 256;
        private long seed = 0;
        private Path cacheFile;
        private JudgeCache cache;
        private Map<String, String> environment;
        private Consumer<String> warnings;

        private Builder() {}

        /**
         * Sets the API base URL (e.g. {@code https://api.openai.com/v1}, {@code http://localhost:8000/v1}).
         *
         * @param url the base URL; {@code /chat/completions} is appended
         * @return this
         */
        public Builder optBaseUrl(String url) {
            this.baseUrl = url;
            return this;
        }

        /**
         * Sets the model name.
         *
         * @param m e.g. {@code gpt-4o}
         * @return this
         */
        public Builder optModel(String m) {
            this.model = m;
            return this;
        }

        /**
         * Sets the API key (sent as {@code Authorization: Bearer}); local servers may need none.
         *
         * @param key the key
         * @return this
         */
        public Builder optApiKey(String key) {
            this.apiKey = key;
            return this;
        }

        /**
         * Sets the prompt template (default {@link JudgeTemplate#DPO_CONCISE}).
         *
         * @param t the template
         * @return this
         */
        public Builder optTemplate(JudgeTemplate t) {
            this.template = t;
            return this;
        }

        /**
         * Sets the deadline of each HTTP request, from connecting to the last byte of the answer (default 60 s).
         *
         * @param d the timeout
         * @return this
         */
        public Builder optRequestTimeout(Duration d) {
            this.requestTimeout = d;
            return this;
        }

        /**
         * Sets how many times a failed request is retried (default 6; 0 = no retry).
         *
         * @param n retries
         * @return this
         */
        public Builder optMaxRetries(int n) {
            this.maxRetries = n;
            return this;
        }

        /**
         * Sets the backoff before the first retry (default 1 s) and its cap (default 60 s).
         *
         * @param initial first backoff
         * @param max cap
         * @return this
         */
        public Builder optBackoff(Duration initial, Duration max) {
            this.initialBackoff = initial;
            this.maxBackoff = max;
            return this;
        }

        /**
         * Sets {@code max_tokens} of each request (default 256).
         *
         * @param n the limit
         * @return this
         */
        public Builder optMaxTokens(int n) {
            this.maxTokens = n;
            return this;
        }

        /**
         * Sets the seed of the backoff jitter.
         *
         * @param s the seed
         * @return this
         */
        public Builder optSeed(long s) {
            this.seed = s;
            return this;
        }

        /**
         * Caches replies in a JSON Lines file (opened by the judge, closed with it).
         *
         * @param file the cache file
         * @return this
         */
        public Builder optCacheFile(Path file) {
            this.cacheFile = file;
            return this;
        }

        /**
         * Caches replies in an open cache (the caller closes it).
         *
         * @param c the cache
         * @return this
         */
        public Builder optCache(JudgeCache c) {
            this.cache = c;
            return this;
        }

        /**
         * Sets the environment the defaults are read from (default {@link System#getenv()}).
         *
         * @param env variables
         * @return this
         */
        public Builder optEnvironment(Map<String, String> env) {
            this.environment = env;
            return this;
        }

        /**
         * Receives warnings (retries, an ignored cache line) in addition to the SLF4J log.
         *
         * @param sink the receiver
         * @return this
         */
        public Builder optWarnings(Consumer<String> sink) {
            this.warnings = sink;
            return this;
        }

        /**
         * Builds the judge.
         *
         * @return the judge
         * @throws IOException when the cache file cannot be opened
         */
        public LlmJudge build() throws IOException {
            Map<String, String> env = environment != null ? environment : System.getenv();
            String url = firstNonBlank(baseUrl, env.get(ENV_BASE_URL), DEFAULT_BASE_URL);
            String m = firstNonBlank(model, env.get(ENV_MODEL));
            if (m == null) {
                throw new IllegalArgumentException("no judge model: set it (--judge-model) or " + ENV_MODEL);
            }
            String key = firstNonBlank(apiKey, env.get(ENV_API_KEY), env.get(ENV_OPENAI_API_KEY));
            if (key == null && url.startsWith("https://api.openai.com")) {
                throw new IllegalArgumentException("no API key for " + url + ": set it (--api-key) or " + ENV_API_KEY
                        + " or " + ENV_OPENAI_API_KEY);
            }
            if (template == null) {
                throw new IllegalArgumentException("template must not be null");
            }
            positive("requestTimeout", requestTimeout);
            positive("initialBackoff", initialBackoff);
            positive("maxBackoff", maxBackoff);
            if (maxBackoff.compareTo(initialBackoff) < 0) {
                throw new IllegalArgumentException(
                        "maxBackoff (" + maxBackoff + ") must be >= initialBackoff (" + initialBackoff + ")");
            }
            if (maxRetries < 0) {
                throw new IllegalArgumentException("maxRetries must be >= 0, got " + maxRetries);
            }
            if (maxTokens < 1) {
                throw new IllegalArgumentException("maxTokens must be >= 1, got " + maxTokens);
            }
            if (cache != null && cacheFile != null) {
                throw new IllegalArgumentException("give either a cache or a cache file, not both");
            }
            Consumer<String> warn = msg -> {
                LOG.warn(msg);
                if (warnings != null) {
                    warnings.accept(msg);
                }
            };
            JudgeCache c = cache;
            boolean owns = false;
            if (cacheFile != null) {
                c = JudgeCache.open(cacheFile, warn);
                owns = true;
            }
            try {
                return new LlmJudge(this, url, m, key, c, owns);
            } catch (RuntimeException e) {
                if (owns) {
                    c.close();
                }
                throw e;
            }
        }

        private static void positive(String name, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + d);
            }
        }

        private static String firstNonBlank(String... values) {
            for (String v : values) {
                if (v != null && !v.isBlank()) {
                    return v.strip();
                }
            }
            return null;
        }
    }
}
