package org.rlhf4j.datasets;

import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.rlhf4j.core.tokenizer.ChatMessage;

/**
 * What a query is built from: a structured Reddit post, a CNN/DM article, or a prompt text used verbatim.
 *
 * <p>Structured prompts are formatted with the reference templates and can be truncated to a token budget; raw
 * prompts are used as they are (and are rejected, never cut, when too long). Conversational prompts are lists of
 * messages that the model's chat template renders ({@link org.rlhf4j.datasets.task.TldrTask}); they are never cut
 * either.
 */
public sealed interface Prompt permits Prompt.Reddit, Prompt.Article, Prompt.Raw, Prompt.Chat {

    /**
     * Parses a prompt written in the TL;DR layout back into its parts, else keeps it verbatim.
     *
     * <p>Accepted layouts: {@code "SUBREDDIT: r/{s}\n\nTITLE: {t}\n\nPOST: {p}\n\nTL;DR:"} (OpenAI, trl-lib) and
     * {@code "SUBREDDIT: r/{s}\nTITLE: {t}\nPOST: {p}\nTL;DR:"} (CarperAI), with or without the final
     * {@code TL;DR:} line and with trailing spaces after it. Anything else (e.g. a title containing a newline)
     * becomes a {@link Raw} prompt with the text unchanged.
     *
     * @param text the prompt text
     * @return a {@link Reddit} prompt when the layout matches, else a {@link Raw} one
     */
    static Prompt parse(String text) {
        Objects.requireNonNull(text, "text");
        Matcher m = Reddit.LAYOUT.matcher(text);
        if (m.matches()) {
            return new Reddit(m.group(1), m.group(2), m.group(3));
        }
        return new Raw(text);
    }

    /**
     * Returns this prompt as plain text (the full, untruncated query).
     *
     * @return the text
     */
    String text();

    /**
     * A Reddit post: formatted as {@code "SUBREDDIT: r/{subreddit}\n\nTITLE: {title}\n\nPOST: {post}\n\nTL;DR:"}.
     *
     * @param subreddit the subreddit name without {@code r/}
     * @param title the post title
     * @param post the post body (the field that truncation shortens)
     */
    record Reddit(String subreddit, String title, String post) implements Prompt {

        /** The reference query template (OpenAI, N+ implementation details, TRL). */
        public static final String TEMPLATE = "SUBREDDIT: r/{subreddit}\n\nTITLE: {title}\n\nPOST: {post}\n\nTL;DR:";

        static final Pattern LAYOUT =
                Pattern.compile(
                        "SUBREDDIT: r/([^\\n]*)\\n\\n?TITLE: ([^\\n]*)\\n\\n?POST: (.*?)(?:\\n\\n?TL;DR:[ \\t]*)?",
                        Pattern.DOTALL);

        /**
         * Checks the parts.
         *
         * @param subreddit the subreddit
         * @param title the title
         * @param post the post
         */
        public Reddit {
            Objects.requireNonNull(subreddit, "subreddit");
            Objects.requireNonNull(title, "title");
            Objects.requireNonNull(post, "post");
        }

        /**
         * Formats the query with a given post body (used by truncation).
         *
         * @param body the (possibly shortened) post
         * @return the query text
         */
        public String format(String body) {
            return "SUBREDDIT: r/" + subreddit + "\n\nTITLE: " + title + "\n\nPOST: " + body + "\n\nTL;DR:";
        }

        /** {@inheritDoc} */
        @Override
        public String text() {
            return format(post);
        }
    }

    /**
     * A CNN/Daily Mail article: formatted as {@code "Article:\n{article}\n\nTL;DR:\n"} (OpenAI's CNN/DM template).
     *
     * @param article the article text (the field that truncation shortens)
     */
    record Article(String article) implements Prompt {

        /** The reference CNN/DM query template. */
        public static final String TEMPLATE = "Article:\n{article}\n\nTL;DR:\n";

        /**
         * Checks the article.
         *
         * @param article the article
         */
        public Article {
            Objects.requireNonNull(article, "article");
        }

        /**
         * Formats the query with a given article body (used by truncation).
         *
         * @param body the (possibly shortened) article
         * @return the query text
         */
        public String format(String body) {
            return "Article:\n" + body + "\n\nTL;DR:\n";
        }

        /** {@inheritDoc} */
        @Override
        public String text() {
            return format(article);
        }
    }

    /**
     * A prompt used verbatim.
     *
     * @param text the prompt text
     */
    record Raw(String text) implements Prompt {

        /**
         * Checks the text.
         *
         * @param text the text
         */
        public Raw {
            Objects.requireNonNull(text, "text");
        }
    }

    /**
     * A conversational prompt: messages rendered by the model's chat template with the generation prompt appended
     * (TRL's {@code apply_chat_template(prompt, add_generation_prompt=True)}).
     *
     * @param messages the messages, in order
     */
    record Chat(List<ChatMessage> messages) implements Prompt {

        /**
         * Checks and copies the messages.
         *
         * @param messages the messages
         */
        public Chat {
            messages = List.copyOf(messages);
        }

        /**
         * Returns a template-free view for logs and judges: each message as {@code role: content}, separated by blank
         * lines. What the model sees is the chat template's rendering, not this.
         *
         * @return the plain view
         */
        @Override
        public String text() {
            StringBuilder sb = new StringBuilder();
            for (ChatMessage m : messages) {
                if (sb.length() > 0) {
                    sb.append("\n\n");
                }
                sb.append(m.role()).append(": ").append(m.content());
            }
            return sb.toString();
        }
    }
}
