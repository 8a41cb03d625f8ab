package org.rlhf4j.core.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses the tokens of {@link JinjaLexer} into a tree, with jinja2's operator precedence ({@code jinja2/parser.py}:
 * conditional expression, {@code or}, {@code and}, {@code not}, comparisons and {@code in}, {@code + -},
 * {@code ~}, {@code * / // %}, {@code **}, unary minus, then filters, tests, calls, attributes and subscripts).
 */
final class JinjaParser {

    // ---------------------------------------------------------------- expression tokens

    enum T { NAME, STRING, INT, FLOAT, OP, END }

    record Tok(T type, String text, Object value) {}

    // ---------------------------------------------------------------- tree

    /** A statement or text. */
    sealed interface Node permits Text, Output, If, For, Set, SetBlock, Macro, FilterBlock, Generation, Break,
            Continue {}

    record Text(String text) implements Node {}

    record Output(Expr expr, int line) implements Node {}

    record If(List<Expr> conditions, List<List<Node>> bodies, List<Node> orElse) implements Node {}

    record For(List<String> targets, Expr iterable, Expr filter, List<Node> body, List<Node> orElse, int line)
            implements Node {}

    record Set(List<Expr> targets, Expr value, int line) implements Node {}

    record SetBlock(Expr target, List<Node> body) implements Node {}

    record Macro(String name, List<String> params, List<Expr> defaults, List<Node> body) implements Node {}

    record FilterBlock(String filter, List<Expr> args, List<Node> body, int line) implements Node {}

    record Generation(List<Node> body) implements Node {}

    record Break() implements Node {}

    record Continue() implements Node {}

    /** An expression. */
    sealed interface Expr permits Literal, Name, ListLit, TupleLit, DictLit, Attr, Item, Slice, Call, Filter, Test,
            Unary, Binary, Compare, CondExpr {}

    record Literal(Object value) implements Expr {}

    record Name(String name) implements Expr {}

    record ListLit(List<Expr> items) implements Expr {}

    record TupleLit(List<Expr> items) implements Expr {}

    record DictLit(List<Expr> keys, List<Expr> values) implements Expr {}

    record Attr(Expr target, String name) implements Expr {}

    record Item(Expr target, Expr index) implements Expr {}

    record Slice(Expr target, Expr start, Expr stop, Expr step) implements Expr {}

    record Call(Expr fn, List<Expr> args, List<String> kwNames, List<Expr> kwValues) implements Expr {}

    record Filter(Expr target, String name, List<Expr> args, List<String> kwNames, List<Expr> kwValues)
            implements Expr {}

    record Test(Expr target, String name, List<Expr> args, boolean negated) implements Expr {}

    record Unary(String op, Expr operand) implements Expr {}

    record Binary(String op, Expr left, Expr right) implements Expr {}

    record Compare(Expr first, List<String> ops, List<Expr> rest) implements Expr {}

    record CondExpr(Expr condition, Expr then, Expr orElse) implements Expr {}

    // ---------------------------------------------------------------- statements

    private final List<JinjaLexer.Token> tokens;
    private int pos;

    private JinjaParser(List<JinjaLexer.Token> tokens) {
        this.tokens = tokens;
    }

    /**
     * Parses a template.
     *
     * @param source the template
     * @return the top-level nodes
     * @throws ChatTemplateException on a syntax error (the message has the line)
     */
    static List<Node> parse(String source) {
        JinjaParser p = new JinjaParser(JinjaLexer.lex(source));
        List<Node> body = p.parseBody(List.of());
        if (p.pos < p.tokens.size()) {
            JinjaLexer.Token t = p.tokens.get(p.pos);
            throw new ChatTemplateException("line " + t.line() + ": unexpected '{% " + t.text().strip() + " %}'");
        }
        return body;
    }

    /** Parses nodes until a statement whose first word is in {@code ends} (not consumed). */
    private List<Node> parseBody(List<String> ends) {
        List<Node> out = new ArrayList<>();
        while (pos < tokens.size()) {
            JinjaLexer.Token t = tokens.get(pos);
            switch (t.kind()) {
                case TEXT -> {
                    out.add(new Text(t.text()));
                    pos++;
                }
                case OUTPUT -> {
                    Cursor c = new Cursor(t);
                    Expr e = c.parseExpression();
                    c.expectEnd();
                    out.add(new Output(e, t.line()));
                    pos++;
                }
                case STATEMENT -> {
                    Cursor c = new Cursor(t);
                    String word = c.peek().type() == T.NAME ? c.peek().text() : "";
                    if (ends.contains(word)) {
                        return out;
                    }
                    pos++;
                    c.next();
                    out.add(statement(word, c, t));
                }
                default -> throw new IllegalStateException();
            }
        }
        if (!ends.isEmpty()) {
            throw new ChatTemplateException("unexpected end of template: missing one of " + ends);
        }
        return out;
    }

    /** Consumes the statement token that closes a block and returns its cursor. */
    private Cursor closing(String expected) {
        if (pos >= tokens.size()) {
            throw new ChatTemplateException("unexpected end of template: missing '" + expected + "'");
        }
        Cursor c = new Cursor(tokens.get(pos++));
        c.next();
        return c;
    }

    private String word() {
        return new Cursor(tokens.get(pos)).next().text();
    }

    private Node statement(String word, Cursor c, JinjaLexer.Token t) {
        int line = t.line();
        switch (word) {
            case "if" -> {
                List<Expr> conds = new ArrayList<>();
                List<List<Node>> bodies = new ArrayList<>();
                conds.add(c.parseExpression());
                c.expectEnd();
                List<Node> orElse = List.of();
                while (true) {
                    bodies.add(parseBody(List.of("elif", "else", "endif")));
                    String w = word();
                    Cursor cc = closing("endif");
                    if (w.equals("elif")) {
                        conds.add(cc.parseExpression());
                        cc.expectEnd();
                    } else if (w.equals("else")) {
                        cc.expectEnd();
                        orElse = parseBody(List.of("endif"));
                        closing("endif").expectEnd();
                        break;
                    } else {
                        cc.expectEnd();
                        break;
                    }
                }
                return new If(conds, bodies, orElse);
            }
            case "for" -> {
                List<String> targets = new ArrayList<>();
                targets.add(c.expect(T.NAME).text());
                while (c.isOp(",")) {
                    c.next();
                    targets.add(c.expect(T.NAME).text());
                }
                c.expectName("in");
                Expr iterable = c.parseCondExpr(false);
                Expr filter = null;
                if (c.isName("if")) {
                    c.next();
                    filter = c.parseCondExpr(true);
                }
                if (c.isName("recursive")) {
                    throw new ChatTemplateException("line " + line + ": recursive loops are not supported");
                }
                c.expectEnd();
                List<Node> body = parseBody(List.of("else", "endfor"));
                List<Node> orElse = List.of();
                if (word().equals("else")) {
                    closing("endfor").expectEnd();
                    orElse = parseBody(List.of("endfor"));
                }
                closing("endfor").expectEnd();
                return new For(targets, iterable, filter, body, orElse, line);
            }
            case "set" -> {
                List<Expr> targets = new ArrayList<>();
                targets.add(c.parseTarget());
                while (c.isOp(",")) {
                    c.next();
                    targets.add(c.parseTarget());
                }
                if (c.peek().type() == T.END) {
                    if (targets.size() != 1) {
                        throw new ChatTemplateException("line " + line + ": block 'set' takes one name");
                    }
                    List<Node> body = parseBody(List.of("endset"));
                    closing("endset").expectEnd();
                    return new SetBlock(targets.get(0), body);
                }
                c.expectOp("=");
                Expr value = c.parseTuple();
                c.expectEnd();
                return new Set(targets, value, line);
            }
            case "macro" -> {
                String name = c.expect(T.NAME).text();
                c.expectOp("(");
                List<String> params = new ArrayList<>();
                List<Expr> defaults = new ArrayList<>();
                while (!c.isOp(")")) {
                    params.add(c.expect(T.NAME).text());
                    if (c.isOp("=")) {
                        c.next();
                        defaults.add(c.parseExpression());
                    } else {
                        defaults.add(null);
                    }
                    if (!c.isOp(")")) {
                        c.expectOp(",");
                    }
                }
                c.next();
                c.expectEnd();
                List<Node> body = parseBody(List.of("endmacro"));
                closing("endmacro").expectEnd();
                return new Macro(name, params, defaults, body);
            }
            case "filter" -> {
                String name = c.expect(T.NAME).text();
                List<Expr> args = new ArrayList<>();
                if (c.isOp("(")) {
                    c.next();
                    while (!c.isOp(")")) {
                        args.add(c.parseExpression());
                        if (!c.isOp(")")) {
                            c.expectOp(",");
                        }
                    }
                    c.next();
                }
                c.expectEnd();
                List<Node> body = parseBody(List.of("endfilter"));
                closing("endfilter").expectEnd();
                return new FilterBlock(name, args, body, line);
            }
            case "generation" -> {
                // transformers' AssistantTracker extension (utils/chat_template_utils.py)
                c.expectEnd();
                List<Node> body = parseBody(List.of("endgeneration"));
                closing("endgeneration").expectEnd();
                return new Generation(body);
            }
            case "break" -> {
                c.expectEnd();
                return new Break();
            }
            case "continue" -> {
                c.expectEnd();
                return new Continue();
            }
            // jinja2 core tags only: transformers loads no extension besides loopcontrols and its generation tag,
            // so {% do %}, {% include %}... fail there too
            default -> throw new ChatTemplateException("line " + line + ": unsupported statement '{% "
                    + t.text().strip() + " %}'");
        }
    }

    // ---------------------------------------------------------------- expressions

    /** Tokenizes and parses the inside of one tag. */
    static final class Cursor {
        private final List<Tok> toks;
        private final int line;
        private int i;

        Cursor(JinjaLexer.Token t) {
            this.line = t.line();
            this.toks = tokenize(t.text(), t.line());
        }

        Tok peek() {
            return toks.get(i);
        }

        Tok next() {
            Tok t = toks.get(i);
            if (t.type() != T.END) {
                i++;
            }
            return t;
        }

        boolean isOp(String op) {
            return peek().type() == T.OP && peek().text().equals(op);
        }

        boolean isName(String n) {
            return peek().type() == T.NAME && peek().text().equals(n);
        }

        Tok expect(T type) {
            if (peek().type() != type) {
                throw error("expected " + type.name().toLowerCase() + " but found " + describe(peek()));
            }
            return next();
        }

        void expectOp(String op) {
            if (!isOp(op)) {
                throw error("expected '" + op + "' but found " + describe(peek()));
            }
            next();
        }

        void expectName(String n) {
            if (!isName(n)) {
                throw error("expected '" + n + "' but found " + describe(peek()));
            }
            next();
        }

        void expectEnd() {
            if (peek().type() != T.END) {
                throw error("unexpected " + describe(peek()));
            }
        }

        private ChatTemplateException error(String msg) {
            return new ChatTemplateException("line " + line + ": " + msg);
        }

        private static String describe(Tok t) {
            return t.type() == T.END ? "end of tag" : "'" + t.text() + "'";
        }

        /** An assignment target: a name or {@code name.attr} (namespace attribute). */
        Expr parseTarget() {
            Expr e = new Name(expect(T.NAME).text());
            if (isOp(".")) {
                next();
                e = new Attr(e, expect(T.NAME).text());
            }
            return e;
        }

        /** An expression, or a tuple of them without parentheses ({@code set a, b = 1, 2}). */
        Expr parseTuple() {
            Expr first = parseExpression();
            if (!isOp(",")) {
                return first;
            }
            List<Expr> items = new ArrayList<>(List.of(first));
            while (isOp(",")) {
                next();
                if (peek().type() == T.END) {
                    break;
                }
                items.add(parseExpression());
            }
            return new TupleLit(items);
        }

        Expr parseExpression() {
            return parseCondExpr(true);
        }

        Expr parseCondExpr(boolean withCondExpr) {
            Expr e = parseOr();
            while (withCondExpr && isName("if")) {
                next();
                Expr cond = parseOr();
                Expr orElse = null;
                if (isName("else")) {
                    next();
                    orElse = parseCondExpr(true);
                }
                e = new CondExpr(cond, e, orElse);
            }
            return e;
        }

        private Expr parseOr() {
            Expr e = parseAnd();
            while (isName("or")) {
                next();
                e = new Binary("or", e, parseAnd());
            }
            return e;
        }

        private Expr parseAnd() {
            Expr e = parseNot();
            while (isName("and")) {
                next();
                e = new Binary("and", e, parseNot());
            }
            return e;
        }

        private Expr parseNot() {
            if (isName("not")) {
                next();
                return new Unary("not", parseNot());
            }
            return parseCompare();
        }

        private Expr parseCompare() {
            Expr first = parseMath1();
            List<String> ops = new ArrayList<>();
            List<Expr> rest = new ArrayList<>();
            while (true) {
                Tok t = peek();
                if (t.type() == T.OP && List.of("==", "!=", "<", "<=", ">", ">=").contains(t.text())) {
                    next();
                    ops.add(t.text());
                } else if (isName("in")) {
                    next();
                    ops.add("in");
                } else if (isName("not") && toks.get(i + 1).type() == T.NAME && toks.get(i + 1).text().equals("in")) {
                    next();
                    next();
                    ops.add("notin");
                } else {
                    break;
                }
                rest.add(parseMath1());
            }
            return ops.isEmpty() ? first : new Compare(first, ops, rest);
        }

        private Expr parseMath1() {
            Expr e = parseConcat();
            while (isOp("+") || isOp("-")) {
                String op = next().text();
                e = new Binary(op, e, parseConcat());
            }
            return e;
        }

        private Expr parseConcat() {
            Expr e = parseMath2();
            while (isOp("~")) {
                next();
                e = new Binary("~", e, parseMath2());
            }
            return e;
        }

        private Expr parseMath2() {
            Expr e = parsePow();
            while (isOp("*") || isOp("/") || isOp("//") || isOp("%")) {
                String op = next().text();
                e = new Binary(op, e, parsePow());
            }
            return e;
        }

        private Expr parsePow() {
            Expr e = parseUnary(true);
            while (isOp("**")) {
                next();
                e = new Binary("**", e, parseUnary(true));
            }
            return e;
        }

        private Expr parseUnary(boolean withFilter) {
            Expr e;
            if (isOp("-")) {
                next();
                e = new Unary("-", parseUnary(false));
            } else if (isOp("+")) {
                next();
                e = new Unary("+", parseUnary(false));
            } else {
                e = parsePrimary();
            }
            e = parsePostfix(e);
            return withFilter ? parseFilterExpr(e) : e;
        }

        private Expr parsePrimary() {
            Tok t = next();
            switch (t.type()) {
                case NAME -> {
                    return switch (t.text()) {
                        case "true", "True" -> new Literal(Boolean.TRUE);
                        case "false", "False" -> new Literal(Boolean.FALSE);
                        case "none", "None" -> new Literal(null);
                        default -> new Name(t.text());
                    };
                }
                case STRING -> {
                    StringBuilder sb = new StringBuilder((String) t.value());
                    while (peek().type() == T.STRING) { // adjacent literals concatenate
                        sb.append((String) next().value());
                    }
                    return new Literal(sb.toString());
                }
                case INT, FLOAT -> {
                    return new Literal(t.value());
                }
                case OP -> {
                    switch (t.text()) {
                        case "(" -> {
                            if (isOp(")")) {
                                next();
                                return new TupleLit(List.of());
                            }
                            Expr e = parseExpression();
                            if (isOp(",")) {
                                List<Expr> items = new ArrayList<>(List.of(e));
                                while (isOp(",")) {
                                    next();
                                    if (isOp(")")) {
                                        break;
                                    }
                                    items.add(parseExpression());
                                }
                                expectOp(")");
                                return new TupleLit(items);
                            }
                            expectOp(")");
                            return e;
                        }
                        case "[" -> {
                            List<Expr> items = new ArrayList<>();
                            while (!isOp("]")) {
                                items.add(parseExpression());
                                if (!isOp("]")) {
                                    expectOp(",");
                                }
                            }
                            next();
                            return new ListLit(items);
                        }
                        case "{" -> {
                            List<Expr> keys = new ArrayList<>();
                            List<Expr> values = new ArrayList<>();
                            while (!isOp("}")) {
                                keys.add(parseExpression());
                                expectOp(":");
                                values.add(parseExpression());
                                if (!isOp("}")) {
                                    expectOp(",");
                                }
                            }
                            next();
                            return new DictLit(keys, values);
                        }
                        default -> throw error("unexpected '" + t.text() + "'");
                    }
                }
                default -> throw error("unexpected end of expression");
            }
        }

        private Expr parsePostfix(Expr e) {
            while (true) {
                if (isOp(".")) {
                    next();
                    Tok t = next();
                    if (t.type() == T.INT) {
                        e = new Item(e, new Literal(t.value()));
                    } else if (t.type() == T.NAME) {
                        e = new Attr(e, t.text());
                    } else {
                        throw error("expected a name after '.'");
                    }
                } else if (isOp("[")) {
                    next();
                    e = parseSubscript(e);
                } else if (isOp("(")) {
                    e = parseCall(e);
                } else {
                    return e;
                }
            }
        }

        private Expr parseSubscript(Expr target) {
            Expr[] parts = new Expr[3];
            int part = 0;
            boolean slice = false;
            while (!isOp("]")) {
                if (isOp(":")) {
                    next();
                    slice = true;
                    part++;
                    if (part > 2) {
                        throw error("too many ':' in a slice");
                    }
                    continue;
                }
                parts[part] = parseExpression();
            }
            next();
            if (!slice) {
                if (parts[0] == null) {
                    throw error("empty subscript");
                }
                return new Item(target, parts[0]);
            }
            return new Slice(target, parts[0], parts[1], parts[2]);
        }

        private Call parseCall(Expr fn) {
            expectOp("(");
            List<Expr> args = new ArrayList<>();
            List<String> kwNames = new ArrayList<>();
            List<Expr> kwValues = new ArrayList<>();
            while (!isOp(")")) {
                if (peek().type() == T.NAME && toks.get(i + 1).type() == T.OP && toks.get(i + 1).text().equals("=")) {
                    kwNames.add(next().text());
                    next();
                    kwValues.add(parseExpression());
                } else {
                    args.add(parseExpression());
                }
                if (!isOp(")")) {
                    expectOp(",");
                }
            }
            next();
            return new Call(fn, args, kwNames, kwValues);
        }

        private Expr parseFilterExpr(Expr e) {
            while (true) {
                if (isOp("|")) {
                    next();
                    String name = expect(T.NAME).text();
                    while (isOp(".")) { // dotted filter names
                        next();
                        name = name + "." + expect(T.NAME).text();
                    }
                    List<Expr> args = List.of();
                    List<String> kwNames = List.of();
                    List<Expr> kwValues = List.of();
                    if (isOp("(")) {
                        Call c = parseCall(null);
                        args = c.args();
                        kwNames = c.kwNames();
                        kwValues = c.kwValues();
                    }
                    e = new Filter(e, name, args, kwNames, kwValues);
                } else if (isName("is")) {
                    next();
                    boolean negated = false;
                    if (isName("not")) {
                        next();
                        negated = true;
                    }
                    String name = next().text();
                    List<Expr> args = new ArrayList<>();
                    if (isOp("(")) {
                        args.addAll(parseCall(null).args());
                    } else if (startsPrimary() && !isName("else") && !isName("and") && !isName("or")
                            && !isName("if") && !isName("in") && !isName("is") && !isName("not")) {
                        // jinja2 parse_test: one argument without parentheses ({{ x is divisibleby 3 }})
                        args.add(parsePostfix(parsePrimary()));
                    }
                    e = new Test(e, name, args, negated);
                } else if (isOp("(")) {
                    e = parseCall(e);
                } else {
                    return e;
                }
            }
        }

        private boolean startsPrimary() {
            Tok t = peek();
            return t.type() == T.NAME || t.type() == T.STRING || t.type() == T.INT || t.type() == T.FLOAT
                    || (t.type() == T.OP && (t.text().equals("[") || t.text().equals("{")));
        }
    }

    private static final List<String> OPERATORS = List.of("**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/",
            "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|");

    static List<Tok> tokenize(String s, int line) {
        List<Tok> out = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (Character.isLetter(c) || c == '_') {
                int j = i + 1;
                while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
                    j++;
                }
                out.add(new Tok(T.NAME, s.substring(i, j), null));
                i = j;
            } else if (Character.isDigit(c)) {
                int j = i;
                boolean isFloat = false;
                while (j < s.length() && (Character.isDigit(s.charAt(j)) || s.charAt(j) == '_')) {
                    j++;
                }
                if (j + 1 < s.length() && s.charAt(j) == '.' && Character.isDigit(s.charAt(j + 1))) {
                    isFloat = true;
                    j++;
                    while (j < s.length() && (Character.isDigit(s.charAt(j)) || s.charAt(j) == '_')) {
                        j++;
                    }
                }
                if (j < s.length() && (s.charAt(j) == 'e' || s.charAt(j) == 'E')) {
                    int k = j + 1;
                    if (k < s.length() && (s.charAt(k) == '+' || s.charAt(k) == '-')) {
                        k++;
                    }
                    if (k < s.length() && Character.isDigit(s.charAt(k))) {
                        isFloat = true;
                        j = k;
                        while (j < s.length() && Character.isDigit(s.charAt(j))) {
                            j++;
                        }
                    }
                }
                String num = s.substring(i, j).replace("_", "");
                out.add(isFloat ? new Tok(T.FLOAT, num, Double.parseDouble(num))
                        : new Tok(T.INT, num, Long.parseLong(num)));
                i = j;
            } else if (c == '\'' || c == '"') {
                StringBuilder sb = new StringBuilder();
                int j = i + 1;
                while (true) {
                    if (j >= s.length()) {
                        throw new ChatTemplateException("line " + line + ": unterminated string");
                    }
                    char d = s.charAt(j);
                    if (d == c) {
                        break;
                    }
                    if (d == '\\' && j + 1 < s.length()) {
                        j = unescape(s, j + 1, sb);
                        continue;
                    }
                    sb.append(d);
                    j++;
                }
                out.add(new Tok(T.STRING, s.substring(i, j + 1), sb.toString()));
                i = j + 1;
            } else {
                String op = null;
                for (String o : OPERATORS) {
                    if (s.startsWith(o, i)) {
                        op = o;
                        break;
                    }
                }
                if (op == null) {
                    throw new ChatTemplateException("line " + line + ": unexpected character '" + c + "'");
                }
                out.add(new Tok(T.OP, op, null));
                i += op.length();
            }
        }
        out.add(new Tok(T.END, "", null));
        return out;
    }

    /** Python string-literal escapes (jinja2 uses Python's own unescaping); returns the index after the escape. */
    private static int unescape(String s, int j, StringBuilder sb) {
        char e = s.charAt(j);
        switch (e) {
            case 'n' -> sb.append('\n');
            case 't' -> sb.append('\t');
            case 'r' -> sb.append('\r');
            case '0' -> sb.append('\0');
            case 'b' -> sb.append('\b');
            case 'f' -> sb.append('\f');
            case 'a' -> sb.append('\u0007');
            case 'v' -> sb.append('\u000b');
            case '\\', '\'', '"' -> sb.append(e);
            case '\n' -> { }
            case 'x' -> {
                sb.append((char) Integer.parseInt(s.substring(j + 1, j + 3), 16));
                return j + 3;
            }
            case 'u' -> {
                sb.append((char) Integer.parseInt(s.substring(j + 1, j + 5), 16));
                return j + 5;
            }
            case 'U' -> {
                sb.appendCodePoint(Integer.parseInt(s.substring(j + 1, j + 9), 16));
                return j + 9;
            }
            default -> sb.append('\\').append(e);
        }
        return j + 1;
    }
}
