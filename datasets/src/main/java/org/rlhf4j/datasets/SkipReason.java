package org.rlhf4j.datasets;

/** Why a row was rejected: the closed set of bad-input outcomes, each with the key used in reports. */
public enum SkipReason {
    /** The line is not valid JSON, or not a JSON object. */
    MALFORMED_JSON("malformed_json"),
    /**
     * The line exceeds a limit of the JSON parser (Jackson's {@code StreamReadConstraints}): nesting deeper than 1000
     * levels, a string longer than 20,000,000 characters, a number longer than 1000 digits.
     */
    JSON_LIMIT("json_limit"),
    /** The line's bytes are not valid UTF-8. */
    INVALID_UTF8("invalid_utf8"),
    /** A required field is absent or null. */
    MISSING_FIELD("missing_field"),
    /** A field has the wrong JSON type (e.g. a number where a string is required). */
    WRONG_TYPE("wrong_type"),
    /** A required text field is empty or blank (e.g. an empty summary). */
    EMPTY_FIELD("empty_field"),
    /** A comparison's {@code choice} is not 0 or 1. */
    BAD_CHOICE("bad_choice"),
    /** The query does not fit the token limit even with the whole post truncated away. */
    QUERY_TOO_LONG("query_too_long"),
    /** A response (summary, completion, chosen or rejected) is longer than the response token limit. */
    RESPONSE_TOO_LONG("response_too_long"),
    /**
     * The chat template cannot render a conversational row (it raised an error, or it renders the prompt differently
     * from the start of prompt + completion, so the completion cannot be cut off it).
     */
    CHAT_TEMPLATE("chat_template");

    private final String key;

    SkipReason(String key) {
        this.key = key;
    }

    /**
     * Returns the key used in reports and JSON output.
     *
     * @return e.g. {@code empty_field}
     */
    public String key() {
        return key;
    }
}
