package org.rlhf4j.core.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a Jinja template into text, output ({@code {{ }}}) and statement ({@code {% %}}) tokens with the whitespace
 * rules transformers compiles chat templates with ({@code trim_blocks=True, lstrip_blocks=True}, jinja2 defaults
 * otherwise: {@code keep_trailing_newline=False}), following jinja2's {@code lexer.py} ({@code Lexer.tokeniter}).
 */
final class JinjaLexer {

    /** Kinds of template tokens. */
    enum Kind { TEXT, OUTPUT, STATEMENT }

    /** One template token: text, or the source between the delimiters of a tag, and its line. */
    record Token(Kind kind, String text, int line) {}

    private JinjaLexer() {}

    /**
     * Tokenizes a template.
     *
     * @param source the template text
     * @return the tokens
     * @throws ChatTemplateException on an unclosed tag
     */
    static List<Token> lex(String source) {
        // jinja2 Lexer.tokeniter: source.splitlines() joined with "\n"; one trailing newline dropped
        // (keep_trailing_newline=False)
        String src = source.replace("\r\n", "\n").replace('\r', '\n');
        if (src.endsWith("\n")) {
            src = src.substring(0, src.length() - 1);
        }
        List<Token> out = new ArrayList<>();
        int pos = 0;
        int line = 1;
        boolean lineStarting = true; // jinja2: the previous match ended with "\n" (or start of template)
        boolean stripNext = false; // the previous tag ended with "-"
        while (pos < src.length()) {
            int open = nextOpen(src, pos);
            String text = src.substring(pos, open < 0 ? src.length() : open);
            if (stripNext) {
                text = lstrip(text);
            }
            if (open < 0) {
                addText(out, text, line);
                break;
            }
            char kind = src.charAt(open + 1);
            int afterOpen = open + 2;
            char sign = afterOpen < src.length() ? src.charAt(afterOpen) : 0;
            if (sign == '-') {
                text = rstrip(text);
            } else if (sign != '+' && kind != '{') {
                // lstrip_blocks: whitespace between the last newline (or a line start) and a block/comment tag
                int lpos = text.lastIndexOf('\n') + 1;
                if ((lpos > 0 || lineStarting) && lpos < text.length() && isBlank(text, lpos)) {
                    text = text.substring(0, lpos);
                }
            }
            line += count(src, pos, open);
            addText(out, text, line);
            int bodyStart = (sign == '-' || sign == '+') ? afterOpen + 1 : afterOpen;
            String close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
            int end = findClose(src, bodyStart, close, kind);
            if (end < 0) {
                throw new ChatTemplateException("line " + line + ": unclosed '{" + kind + "'");
            }
            boolean minusEnd = end > bodyStart && src.charAt(end - 1) == '-';
            String body = src.substring(bodyStart, minusEnd ? end - 1 : end);
            int next = end + 2;
            int tagLine = line;
            line += count(src, open, next);
            if (kind == '%' && body.strip().equals("raw")) {
                // {% raw %}...{% endraw %}: text kept verbatim
                int[] endRaw = findEndRaw(src, next);
                if (endRaw == null) {
                    throw new ChatTemplateException("line " + tagLine + ": 'raw' without 'endraw'");
                }
                String raw = src.substring(next, endRaw[0]);
                if (minusEnd) {
                    raw = lstrip(raw);
                }
                if (endRaw[2] == 1) {
                    raw = rstrip(raw);
                }
                addText(out, raw, line);
                line += count(src, next, endRaw[1]);
                next = endRaw[1];
                minusEnd = endRaw[3] == 1;
            } else if (kind != '#') {
                out.add(new Token(kind == '{' ? Kind.OUTPUT : Kind.STATEMENT, body, tagLine));
            }
            stripNext = minusEnd;
            lineStarting = false;
            if (!minusEnd && kind != '{' && next < src.length() && src.charAt(next) == '\n') {
                next++; // trim_blocks: the first newline after a block or comment tag
                line++;
                lineStarting = true;
            }
            pos = next;
        }
        return out;
    }

    private static void addText(List<Token> out, String text, int line) {
        if (!text.isEmpty()) {
            out.add(new Token(Kind.TEXT, text, line));
        }
    }

    private static int nextOpen(String s, int from) {
        for (int i = s.indexOf('{', from); i >= 0 && i + 1 < s.length(); i = s.indexOf('{', i + 1)) {
            char c = s.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') {
                return i;
            }
        }
        return -1;
    }

    /**
     * The index of the closing delimiter, skipping string literals and, as jinja2's lexer does with its balancing
     * stack, anything inside brackets ({@code {{ {'a': {}} }}}).
     */
    private static int findClose(String s, int from, String close, char kind) {
        if (kind == '#') {
            return s.indexOf(close, from);
        }
        char quote = 0;
        int depth = 0;
        for (int i = from; i + 1 < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (depth == 0 && c == close.charAt(0) && s.charAt(i + 1) == close.charAt(1)) {
                return i;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
                depth--;
            }
        }
        return -1;
    }

    /** {start of the endraw tag, end of it, whether it strips before, whether it strips after}. */
    private static int[] findEndRaw(String s, int from) {
        for (int i = s.indexOf("{%", from); i >= 0; i = s.indexOf("{%", i + 2)) {
            int j = i + 2;
            boolean minusBefore = j < s.length() && s.charAt(j) == '-';
            if (minusBefore || (j < s.length() && s.charAt(j) == '+')) {
                j++;
            }
            int close = s.indexOf("%}", j);
            if (close < 0) {
                return null;
            }
            boolean minusAfter = s.charAt(close - 1) == '-';
            String body = s.substring(j, minusAfter ? close - 1 : close).strip();
            if (body.equals("endraw")) {
                return new int[] {i, close + 2, minusBefore ? 1 : 0, minusAfter ? 1 : 0};
            }
        }
        return null;
    }

    private static boolean isBlank(String s, int from) {
        for (int i = from; i < s.length(); i++) {
            if (!Character.isWhitespace(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static int count(String s, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) {
            if (s.charAt(i) == '\n') {
                n++;
            }
        }
        return n;
    }

    static String lstrip(String s) {
        int i = 0;
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return s.substring(i);
    }

    static String rstrip(String s) {
        int i = s.length();
        while (i > 0 && Character.isWhitespace(s.charAt(i - 1))) {
            i--;
        }
        return s.substring(0, i);
    }
}
