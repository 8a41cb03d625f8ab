package org.rlhf4j.core.tokenizer;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Python value semantics for the template interpreter: {@code None} is {@code null}, ints are {@link Long}, floats
 * {@link Double}, lists {@link List}, dicts {@link Map} (insertion-ordered), tuples {@link Tuple}; {@link #UNDEFINED}
 * is jinja2's default {@code Undefined}.
 */
final class JinjaValues {

    private JinjaValues() {}

    /** jinja2's {@code Undefined}: prints as nothing, is falsy, iterates as empty; other uses are errors. */
    static final class Undefined {
        private final String name;
        private final String hint;

        Undefined(String name) {
            this(name, null);
        }

        private Undefined(String name, String hint) {
            this.name = name;
            this.hint = hint;
        }

        /** An undefined value that explains itself (jinja2's {@code undefined_hint}). */
        static Undefined hint(String hint) {
            return new Undefined("value", hint);
        }

        String name() {
            return name;
        }

        /** jinja2's {@code UndefinedError} message for using this value. */
        String message() {
            return hint != null ? hint : "'" + name + "' is undefined";
        }

        @Override
        public String toString() {
            return "";
        }
    }

    /** The undefined value of a name that was never set. */
    static final Undefined UNDEFINED = new Undefined("value");

    /** A Python tuple (prints with parentheses). */
    record Tuple(List<Object> items) {}

    /** jinja2's {@code namespace()}: attributes that assignments inside loops can change. */
    static final class Namespace {
        final Map<String, Object> attrs = new LinkedHashMap<>();
    }

    /** A callable value (global function, macro, bound method). */
    @FunctionalInterface
    interface Fn {
        Object call(List<Object> args, Map<String, Object> kwargs);
    }

    static boolean truthy(Object v) {
        if (v == null || v instanceof Undefined) {
            return false;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Long l) {
            return l != 0;
        }
        if (v instanceof Double d) {
            return d != 0.0;
        }
        if (v instanceof String s) {
            return !s.isEmpty();
        }
        if (v instanceof Collection<?> c) {
            return !c.isEmpty();
        }
        if (v instanceof Map<?, ?> m) {
            return !m.isEmpty();
        }
        if (v instanceof Tuple t) {
            return !t.items().isEmpty();
        }
        return true;
    }

    /** Python's {@code str(v)}; undefined prints as the empty string (jinja2's default {@code Undefined}). */
    static String str(Object v) {
        if (v instanceof String s) {
            return s;
        }
        if (v instanceof Undefined) {
            return "";
        }
        return repr(v);
    }

    /** Python's {@code repr(v)}. */
    static String repr(Object v) {
        if (v == null) {
            return "None";
        }
        if (v instanceof Boolean b) {
            return b ? "True" : "False";
        }
        if (v instanceof Long l) {
            return Long.toString(l);
        }
        if (v instanceof Double d) {
            return floatRepr(d);
        }
        if (v instanceof String s) {
            return stringRepr(s);
        }
        if (v instanceof Undefined) {
            return "";
        }
        if (v instanceof Tuple t) {
            StringBuilder sb = new StringBuilder("(");
            for (int i = 0; i < t.items().size(); i++) {
                sb.append(i > 0 ? ", " : "").append(repr(t.items().get(i)));
            }
            return sb.append(t.items().size() == 1 ? ",)" : ")").toString();
        }
        if (v instanceof List<?> list) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < list.size(); i++) {
                sb.append(i > 0 ? ", " : "").append(repr(list.get(i)));
            }
            return sb.append(']').toString();
        }
        if (v instanceof Map<?, ?> map) {
            StringBuilder sb = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                sb.append(first ? "" : ", ").append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
                first = false;
            }
            return sb.append('}').toString();
        }
        if (v instanceof Namespace) {
            return "<Namespace>";
        }
        return v.toString();
    }

    /** Python's float repr: shortest round-trip digits, exponent form outside [1e-4, 1e16). */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        double abs = Math.abs(d);
        if (abs >= 1e-4 && abs < 1e16) {
            String s = bd.toPlainString();
            return s.contains(".") ? s : s + ".0";
        }
        String digits = bd.unscaledValue().abs().toString();
        int exp = digits.length() - 1 - bd.scale();
        String mant = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return (d < 0 ? "-" : "") + mant + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "")
                + Math.abs(exp);
    }

    /** Python's {@code repr(str)}: single quotes unless the text has a single quote and no double quote. */
    static String stringRepr(String s) {
        char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder sb = new StringBuilder().append(q);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c == q) {
                        sb.append('\\').append(c);
                    } else if (c < 0x20 || c == 0x7f) {
                        sb.append(String.format("\\x%02x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append(q).toString();
    }

    /** Python equality ({@code 1 == 1.0}, {@code True == 1}, element-wise for lists and dicts). */
    static boolean eq(Object a, Object b) {
        if (a instanceof Undefined || b instanceof Undefined) {
            return a instanceof Undefined && b instanceof Undefined;
        }
        if (a == null || b == null) {
            return a == b;
        }
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return toDouble(a) == toDouble(b);
            }
            return toLong(a) == toLong(b);
        }
        if (a instanceof Tuple ta) {
            a = ta.items();
        }
        if (b instanceof Tuple tb) {
            b = tb.items();
        }
        if (a instanceof List<?> la && b instanceof List<?> lb) {
            if (la.size() != lb.size()) {
                return false;
            }
            for (int i = 0; i < la.size(); i++) {
                if (!eq(la.get(i), lb.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map<?, ?> ma && b instanceof Map<?, ?> mb) {
            if (ma.size() != mb.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : ma.entrySet()) {
                if (!mb.containsKey(e.getKey()) || !eq(e.getValue(), mb.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        return a.equals(b);
    }

    /** Numbers in the Python sense: int, float and bool. */
    static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof Boolean;
    }

    static long toLong(Object v) {
        if (v instanceof Boolean b) {
            return b ? 1 : 0;
        }
        if (v instanceof Double d) {
            return (long) (double) d;
        }
        return (Long) v;
    }

    static double toDouble(Object v) {
        if (v instanceof Double d) {
            return d;
        }
        return toLong(v);
    }

    /** Python's type name, for error messages. */
    static String typeName(Object v) {
        if (v == null) {
            return "NoneType";
        }
        if (v instanceof Undefined) {
            return "Undefined";
        }
        if (v instanceof Boolean) {
            return "bool";
        }
        if (v instanceof Long) {
            return "int";
        }
        if (v instanceof Double) {
            return "float";
        }
        if (v instanceof String) {
            return "str";
        }
        if (v instanceof Tuple) {
            return "tuple";
        }
        if (v instanceof List) {
            return "list";
        }
        if (v instanceof Map) {
            return "dict";
        }
        return v.getClass().getSimpleName();
    }

    /** Iterates a value as Python does in a {@code for} loop (dicts give keys, strings characters). */
    static List<Object> iterate(Object v) {
        if (v instanceof Undefined) {
            return List.of();
        }
        if (v instanceof Tuple t) {
            return t.items();
        }
        if (v instanceof List<?> l) {
            return new ArrayList<>(l);
        }
        if (v instanceof Map<?, ?> m) {
            return new ArrayList<>(m.keySet());
        }
        if (v instanceof String s) {
            List<Object> out = new ArrayList<>();
            s.codePoints().forEach(cp -> out.add(new String(Character.toChars(cp))));
            return out;
        }
        if (v instanceof Iterable<?> it) {
            List<Object> out = new ArrayList<>();
            for (Iterator<?> i = it.iterator(); i.hasNext(); ) {
                out.add(i.next());
            }
            return out;
        }
        throw new ChatTemplateException("'" + typeName(v) + "' object is not iterable");
    }

    /** Python's ordering for {@code < <= > >=} and sorting: numbers with numbers, strings with strings. */
    static int compare(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            return Double.compare(toDouble(a), toDouble(b));
        }
        if (a instanceof String sa && b instanceof String sb) {
            return compareCodePoints(sa, sb);
        }
        if (a instanceof List<?> la && b instanceof List<?> lb) {
            for (int i = 0; i < Math.min(la.size(), lb.size()); i++) {
                if (!eq(la.get(i), lb.get(i))) {
                    return compare(la.get(i), lb.get(i));
                }
            }
            return Integer.compare(la.size(), lb.size());
        }
        throw new ChatTemplateException("'<' not supported between instances of '" + typeName(a) + "' and '"
                + typeName(b) + "'");
    }

    private static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
