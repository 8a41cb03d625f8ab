package org.rlhf4j.algorithms.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.rlhf4j.core.io.Json;

/** A Chat Completions endpoint on loopback whose answers a test scripts; it counts and records requests. */
final class FakeChatServer implements AutoCloseable {

    /** A request as received; {@code uri} is the path with its query string. */
    record Request(int number, String body, String prompt, String model, String authorization, String uri) {}

    /**
     * What to answer: after {@code delayMs}, the headers; then the body, or with {@code stallAfterHeaders} only its
     * first byte and then silence until the server closes.
     */
    record Response(int status, String body, long delayMs, Map<String, String> headers, boolean stallAfterHeaders) {

        Response(int status, String body, long delayMs, Map<String, String> headers) {
            this(status, body, delayMs, headers, false);
        }

        static Response reply(String content) {
            return new Response(200, chatBody(content), 0, Map.of());
        }

        static Response raw(int status, String body) {
            return new Response(status, body, 0, Map.of());
        }

        /** A 200 whose headers arrive at once, and then one byte of the body and nothing more. */
        static Response stalled(String content) {
            return new Response(200, chatBody(content), 0, Map.of(), true);
        }
    }

    private final HttpServer server;
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final AtomicInteger count = new AtomicInteger();
    private final List<Request> requests = new CopyOnWriteArrayList<>();

    FakeChatServer(Function<Request, Response> handler) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/chat/completions", ex -> {
            try (ex) {
                String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                JsonNode n = Json.MAPPER.readTree(body);
                Request r = new Request(count.incrementAndGet(), body, n.path("messages").path(0).path("content").asText(),
                        n.path("model").asText(), ex.getRequestHeaders().getFirst("Authorization"),
                        ex.getRequestURI().toString());
                requests.add(r);
                Response resp = handler.apply(r);
                if (resp.delayMs() > 0) {
                    try {
                        Thread.sleep(resp.delayMs());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                byte[] out = resp.body().getBytes(StandardCharsets.UTF_8);
                resp.headers().forEach((k, v) -> ex.getResponseHeaders().add(k, v));
                ex.getResponseHeaders().add("Content-Type", "application/json");
                ex.sendResponseHeaders(resp.status(), out.length);
                try (OutputStream os = ex.getResponseBody()) {
                    if (resp.stallAfterHeaders()) {
                        os.write(out, 0, 1);
                        os.flush();
                        Thread.sleep(600_000); // ended by close(), which interrupts the handler
                    }
                    os.write(out);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (IOException e) {
                    // the client gave up (timeout test)
                }
            }
        });
        server.setExecutor(pool);
        server.start();
    }

    static String chatBody(String content) {
        return Json.compact(Map.of("id", "x", "object", "chat.completion",
                "choices", List.of(Map.of("index", 0, "message", Map.of("role", "assistant", "content", content)))));
    }

    /** The base URL ({@code http://127.0.0.1:PORT/v1}). */
    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    int requestCount() {
        return count.get();
    }

    List<Request> requests() {
        return requests;
    }

    /** The text shown as "Summary A" / "Summary B" in a rendered DPO prompt. */
    static String shown(String prompt, String label) {
        int s = prompt.indexOf("Summary " + label + ":\n");
        int from = s + ("Summary " + label + ":\n").length();
        int e = prompt.indexOf("\n\n", from);
        return prompt.substring(from, e);
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
