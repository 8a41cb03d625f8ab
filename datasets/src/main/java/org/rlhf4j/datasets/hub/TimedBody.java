package org.rlhf4j.datasets.hub;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A response body as an {@link InputStream} whose reads fail when the server sends nothing for a while.
 *
 * <p>{@link HttpResponse.BodyHandlers#ofInputStream()} blocks forever on a stalled body (the request timeout only
 * covers the wait for the headers), so this subscriber hands the body over one chunk list at a time through a queue
 * and {@link #read} polls it with the timeout; on expiry the subscription is cancelled (closing the connection) and a
 * {@link StalledException} is thrown. At most one chunk list is buffered.
 */
final class TimedBody extends InputStream implements HttpResponse.BodySubscriber<InputStream> {

    /** Thrown by {@link #read} when no byte arrived within the timeout. */
    static final class StalledException extends IOException {
        private static final long serialVersionUID = 1L;

        StalledException(String message) {
            super(message);
        }
    }

    private static final Object END = new Object();

    private final long timeoutNanos;
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final CompletableFuture<InputStream> body = CompletableFuture.completedFuture(this);
    private volatile Flow.Subscription subscription;
    private Iterator<ByteBuffer> chunks;
    private ByteBuffer current;
    private boolean ended;
    private volatile boolean closed;

    private TimedBody(Duration timeout) {
        this.timeoutNanos = timeout.toNanos();
    }

    /**
     * Returns a body handler producing such streams.
     *
     * @param timeout how long a read may wait for data
     * @return the handler
     */
    static HttpResponse.BodyHandler<InputStream> handler(Duration timeout) {
        return info -> new TimedBody(timeout);
    }

    @Override
    public CompletionStage<InputStream> getBody() {
        return body;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        if (closed) {
            s.cancel();
        } else {
            s.request(1);
        }
    }

    @Override
    public void onNext(List<ByteBuffer> item) {
        queue.add(item);
    }

    @Override
    public void onError(Throwable t) {
        queue.add(t);
    }

    @Override
    public void onComplete() {
        queue.add(END);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("stream closed");
        }
        if (len == 0) {
            return 0;
        }
        while (current == null || !current.hasRemaining()) {
            if (chunks != null && chunks.hasNext()) {
                current = chunks.next();
                continue;
            }
            if (ended) {
                return -1;
            }
            if (chunks != null) {
                chunks = null;
                subscription.request(1);
            }
            Object next;
            try {
                next = queue.poll(timeoutNanos, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new java.io.InterruptedIOException("interrupted while reading the response body");
            }
            if (next == null) {
                close();
                throw new StalledException("no data received for " + timeoutNanos / 1_000_000 + " ms");
            }
            if (next == END) {
                ended = true;
                return -1;
            }
            if (next instanceof Throwable t) {
                ended = true;
                throw t instanceof IOException io ? io : new IOException(t.getMessage(), t);
            }
            @SuppressWarnings("unchecked")
            List<ByteBuffer> list = (List<ByteBuffer>) next;
            chunks = list.iterator();
        }
        int n = Math.min(len, current.remaining());
        current.get(b, off, n);
        return n;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Flow.Subscription s = subscription;
        if (s != null && !ended) {
            s.cancel();
        }
    }
}
