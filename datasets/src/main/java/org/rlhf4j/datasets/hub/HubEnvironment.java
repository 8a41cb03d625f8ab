package org.rlhf4j.datasets.hub;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The Hub settings a process takes from its environment, with huggingface_hub's variable names and precedence
 * ({@code constants.py}, {@code utils/_auth.py}).
 *
 * <ul>
 *   <li>endpoint: {@code HF_ENDPOINT} (trailing {@code /} removed), else {@code https://huggingface.co};
 *   <li>token: {@code HF_TOKEN}, else {@code HUGGING_FACE_HUB_TOKEN}, else the file {@code HF_TOKEN_PATH}, else
 *       {@code $HF_HOME/token} ({@code HF_HOME} defaults to {@code $XDG_CACHE_HOME/huggingface}, else
 *       {@code ~/.cache/huggingface}); newlines and surrounding blanks are removed, an empty token is none;
 *   <li>offline: {@code HF_HUB_OFFLINE} or {@code TRANSFORMERS_OFFLINE} set to 1, ON, YES or TRUE (any case);
 *   <li>stall timeout: {@code HF_HUB_DOWNLOAD_TIMEOUT} seconds, else 10 (huggingface_hub's
 *       {@code DEFAULT_DOWNLOAD_TIMEOUT}).
 * </ul>
 *
 * @param endpoint the Hub endpoint (no trailing slash)
 * @param token the access token, or null for anonymous access (never printed: {@link #toString()} hides it)
 * @param offline whether the network must not be used
 * @param readTimeout how long a response may send nothing before the transfer counts as stalled
 */
public record HubEnvironment(URI endpoint, String token, boolean offline, Duration readTimeout) {

    /** The public Hub. */
    public static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");

    /** huggingface_hub's {@code DEFAULT_DOWNLOAD_TIMEOUT} (constants.py): 10 seconds. */
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(10);

    // constants.py ENV_VARS_TRUE_VALUES
    private static final Set<String> TRUE_VALUES = Set.of("1", "ON", "YES", "TRUE");

    /**
     * Checks the endpoint (http or https, no query) and the timeout, and cleans the token.
     *
     * @param endpoint the endpoint
     * @param token the token, or null
     * @param offline offline mode
     * @param readTimeout the stall timeout
     */
    public HubEnvironment {
        endpoint = checkEndpoint(endpoint);
        token = cleanToken(token);
        if (readTimeout == null || readTimeout.isNegative() || readTimeout.isZero()) {
            throw new IllegalArgumentException("read timeout must be positive, got " + readTimeout);
        }
    }

    /**
     * Returns the settings of this process ({@link System#getenv()} and the user's home directory).
     *
     * @return the settings
     * @throws IllegalArgumentException when a variable has an unusable value (named in the message)
     */
    public static HubEnvironment fromSystem() {
        return from(System.getenv(), System.getProperty("user.home"));
    }

    /**
     * Returns the settings of a given environment.
     *
     * @param env the environment variables
     * @param userHome the user's home directory (for the default token file)
     * @return the settings
     * @throws IllegalArgumentException when a variable has an unusable value (named in the message)
     */
    public static HubEnvironment from(Map<String, String> env, String userHome) {
        URI endpoint = DEFAULT_ENDPOINT;
        String e = env.get("HF_ENDPOINT");
        if (e != null && !e.isBlank()) {
            try {
                endpoint = URI.create(e.strip());
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("HF_ENDPOINT is not a URL: '" + e + "'", ex);
            }
        }
        String token = cleanToken(env.get("HF_TOKEN"));
        if (token == null) {
            token = cleanToken(env.get("HUGGING_FACE_HUB_TOKEN"));
        }
        if (token == null) {
            token = readTokenFile(tokenFile(env, userHome));
        }
        boolean offline = isTrue(env.get("HF_HUB_OFFLINE")) || isTrue(env.get("TRANSFORMERS_OFFLINE"));
        Duration timeout = DEFAULT_READ_TIMEOUT;
        String t = env.get("HF_HUB_DOWNLOAD_TIMEOUT");
        if (t != null && !t.isBlank()) {
            try {
                double secs = Double.parseDouble(t.strip());
                if (!(secs > 0) || Double.isInfinite(secs)) {
                    throw new NumberFormatException();
                }
                timeout = Duration.ofMillis(Math.max(1, Math.round(secs * 1000)));
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException(
                        "HF_HUB_DOWNLOAD_TIMEOUT must be a positive number of seconds, got '" + t + "'");
            }
        }
        return new HubEnvironment(endpoint, token, offline, timeout);
    }

    /**
     * Returns the token file huggingface_hub would read.
     *
     * @param env the environment variables
     * @param userHome the user's home directory
     * @return {@code HF_TOKEN_PATH}, else {@code $HF_HOME/token}, else {@code $XDG_CACHE_HOME/huggingface/token},
     *     else {@code ~/.cache/huggingface/token}
     */
    public static Path tokenFile(Map<String, String> env, String userHome) {
        String p = env.get("HF_TOKEN_PATH");
        if (p != null && !p.isBlank()) {
            return Path.of(p);
        }
        String home = env.get("HF_HOME");
        if (home != null && !home.isBlank()) {
            return Path.of(home, "token");
        }
        String xdg = env.get("XDG_CACHE_HOME");
        Path cache = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(userHome, ".cache");
        return cache.resolve("huggingface").resolve("token");
    }

    /**
     * Returns a copy with another endpoint.
     *
     * @param endpoint the endpoint
     * @return the copy
     */
    public HubEnvironment withEndpoint(URI endpoint) {
        return new HubEnvironment(endpoint, token, offline, readTimeout);
    }

    /**
     * Returns a copy with another token.
     *
     * @param token the token, or null for none
     * @return the copy
     */
    public HubEnvironment withToken(String token) {
        return new HubEnvironment(endpoint, token, offline, readTimeout);
    }

    /**
     * Returns a copy with offline mode on or off.
     *
     * @param offline offline mode
     * @return the copy
     */
    public HubEnvironment withOffline(boolean offline) {
        return new HubEnvironment(endpoint, token, offline, readTimeout);
    }

    /**
     * Returns a copy with another stall timeout.
     *
     * @param readTimeout the timeout
     * @return the copy
     */
    public HubEnvironment withReadTimeout(Duration readTimeout) {
        return new HubEnvironment(endpoint, token, offline, readTimeout);
    }

    /**
     * Describes the settings without the token.
     *
     * @return e.g. {@code HubEnvironment[endpoint=https://huggingface.co, token=set, offline=false, readTimeout=PT10S]}
     */
    @Override
    public String toString() {
        return "HubEnvironment[endpoint=" + endpoint + ", token=" + (token == null ? "none" : "set") + ", offline="
                + offline + ", readTimeout=" + readTimeout + "]";
    }

    private static URI checkEndpoint(URI endpoint) {
        if (endpoint == null) {
            throw new IllegalArgumentException("endpoint must not be null");
        }
        String s = endpoint.toString();
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        URI u = URI.create(s);
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || u.getHost() == null) {
            throw new IllegalArgumentException("endpoint must be an http(s) URL with a host, got '" + s + "'");
        }
        if (u.getRawQuery() != null || u.getRawFragment() != null || u.getRawUserInfo() != null) {
            throw new IllegalArgumentException(
                    "endpoint must not have a query, fragment or user info, got '" + u.getScheme() + "://"
                            + u.getHost() + "...'");
        }
        return u;
    }

    // utils/_auth.py _clean_token: drop \r and \n, strip, empty -> none
    private static String cleanToken(String token) {
        if (token == null) {
            return null;
        }
        String t = token.replace("\r", "").replace("\n", "").strip();
        return t.isEmpty() ? null : t;
    }

    private static String readTokenFile(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return cleanToken(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean isTrue(String v) {
        return v != null && TRUE_VALUES.contains(v.strip().toUpperCase(Locale.ROOT));
    }
}
