package org.rlhf4j.core.tokenizer;

import static org.rlhf4j.core.tokenizer.JinjaValues.eq;
import static org.rlhf4j.core.tokenizer.JinjaValues.isNumber;
import static org.rlhf4j.core.tokenizer.JinjaValues.iterate;
import static org.rlhf4j.core.tokenizer.JinjaValues.str;
import static org.rlhf4j.core.tokenizer.JinjaValues.toDouble;
import static org.rlhf4j.core.tokenizer.JinjaValues.toLong;
import static org.rlhf4j.core.tokenizer.JinjaValues.truthy;
import static org.rlhf4j.core.tokenizer.JinjaValues.typeName;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.rlhf4j.core.tokenizer.JinjaValues.Namespace;
import org.rlhf4j.core.tokenizer.JinjaValues.Tuple;
import org.rlhf4j.core.tokenizer.JinjaValues.Undefined;

/**
 * jinja2's built-in filters ({@code jinja2/filters.py}), transformers' {@code tojson} override
 * ({@code utils/chat_template_utils.py}: {@code json.dumps(x, ensure_ascii=False, indent, separators, sort_keys)}),
 * and the Python {@code str}/{@code dict}/{@code list} methods templates call ({@code .strip()}, {@code .items()}...).
 */
final class JinjaFilters {

    /** Runs a test by name (the interpreter's). */
    @FunctionalInterface
    interface Tester {
        boolean test(String name, Object v, List<Object> args);
    }

    private JinjaFilters() {}

    private static Object arg(List<Object> args, Map<String, Object> kw, int k, String name, Object dflt) {
        if (k < args.size()) {
            return args.get(k);
        }
        return kw.containsKey(name) ? kw.get(name) : dflt;
    }

    private static String text(Object v, String what) {
        if (v instanceof Undefined u) {
            throw new ChatTemplateException(u.message());
        }
        return str(v);
    }

    static Object filter(String name, Object v, List<Object> args, Map<String, Object> kw, Tester tester) {
        switch (name) {
            case "default", "d" -> {
                Object dflt = arg(args, kw, 0, "default_value", "");
                boolean bool = truthy(arg(args, kw, 1, "boolean", false));
                return (v instanceof Undefined || (bool && !truthy(v))) ? dflt : v;
            }
            case "trim" -> {
                Object chars = arg(args, kw, 0, "chars", null);
                return strip(text(v, name), chars == null ? null : str(chars), true, true);
            }
            case "length", "count" -> {
                if (v instanceof String s) {
                    return (long) s.codePointCount(0, s.length());
                }
                if (v instanceof Map<?, ?> m) {
                    return (long) m.size();
                }
                if (v instanceof Namespace ns) {
                    return (long) ns.attrs.size();
                }
                return (long) iterate(v).size();
            }
            case "upper" -> {
                return text(v, name).toUpperCase(Locale.ROOT);
            }
            case "lower" -> {
                return text(v, name).toLowerCase(Locale.ROOT);
            }
            case "capitalize" -> {
                return capitalize(text(v, name));
            }
            case "title" -> {
                // jinja2 do_title: words split on whitespace and -([{< ; first letter upper, rest lower
                String s = text(v, name);
                StringBuilder sb = new StringBuilder();
                boolean start = true;
                for (int i = 0; i < s.length(); ) {
                    int cp = s.codePointAt(i);
                    i += Character.charCount(cp);
                    sb.appendCodePoint(start ? Character.toTitleCase(cp) : Character.toLowerCase(cp));
                    start = Character.isWhitespace(cp) || "-([{<".indexOf(cp) >= 0;
                }
                return sb.toString();
            }
            case "string" -> {
                return str(v);
            }
            case "safe", "e", "escape", "forceescape" -> {
                if (name.equals("safe")) {
                    return v;
                }
                return text(v, name).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                        .replace("\"", "&#34;").replace("'", "&#39;");
            }
            case "int" -> {
                return toInt(v, arg(args, kw, 0, "default", 0L));
            }
            case "float" -> {
                if (isNumber(v)) {
                    return toDouble(v);
                }
                try {
                    return Double.parseDouble(str(v).strip());
                } catch (NumberFormatException e) {
                    return arg(args, kw, 0, "default", 0.0);
                }
            }
            case "abs" -> {
                if (v instanceof Double d) {
                    return Math.abs(d);
                }
                return Math.abs(toLong(v));
            }
            case "round" -> {
                int precision = (int) toLong(arg(args, kw, 0, "precision", 0L));
                String method = str(arg(args, kw, 1, "method", "common"));
                double x = toDouble(v);
                double scale = Math.pow(10, precision);
                return switch (method) {
                    case "ceil" -> Math.ceil(x * scale) / scale;
                    case "floor" -> Math.floor(x * scale) / scale;
                    default -> JinjaInterpreter.round(x, precision);
                };
            }
            case "list" -> {
                return new ArrayList<>(iterate(v));
            }
            case "first" -> {
                List<Object> items = iterate(v);
                return items.isEmpty() ? Undefined.hint("No first item, sequence was empty.") : items.get(0);
            }
            case "last" -> {
                List<Object> items = iterate(v);
                return items.isEmpty() ? Undefined.hint("No last item, sequence was empty.")
                        : items.get(items.size() - 1);
            }
            case "reverse" -> {
                if (v instanceof String s) {
                    return new StringBuilder(s).reverse().toString();
                }
                List<Object> items = new ArrayList<>(iterate(v));
                java.util.Collections.reverse(items);
                return items;
            }
            case "join" -> {
                String sep = str(arg(args, kw, 0, "d", ""));
                Object attribute = arg(args, kw, 1, "attribute", null);
                StringBuilder sb = new StringBuilder();
                boolean first = true;
                for (Object x : iterate(v)) {
                    sb.append(first ? "" : sep).append(str(attribute == null ? x : attrPath(x, attribute)));
                    first = false;
                }
                return sb.toString();
            }
            case "replace" -> {
                String s = text(v, name);
                Object count = arg(args, kw, 2, "count", null);
                return replace(s, str(arg(args, kw, 0, "old", "")), str(arg(args, kw, 1, "new", "")),
                        count == null ? -1 : toLong(count));
            }
            case "items" -> {
                if (v instanceof Undefined) {
                    return new ArrayList<>();
                }
                return items(v);
            }
            case "dictsort" -> {
                boolean caseSensitive = truthy(arg(args, kw, 0, "case_sensitive", false));
                String by = str(arg(args, kw, 1, "by", "key"));
                boolean reverse = truthy(arg(args, kw, 2, "reverse", false));
                List<Object> pairs = items(v);
                int pos = by.equals("value") ? 1 : 0;
                pairs.sort((a, b) -> JinjaValues.compare(sortKey(((Tuple) a).items().get(pos), caseSensitive),
                        sortKey(((Tuple) b).items().get(pos), caseSensitive)));
                if (reverse) {
                    java.util.Collections.reverse(pairs);
                }
                return pairs;
            }
            case "sort" -> {
                boolean reverse = truthy(arg(args, kw, 0, "reverse", false));
                boolean caseSensitive = truthy(arg(args, kw, 1, "case_sensitive", false));
                Object attribute = arg(args, kw, 2, "attribute", null);
                List<Object> items = new ArrayList<>(iterate(v));
                items.sort((a, b) -> JinjaValues.compare(
                        sortKey(attribute == null ? a : attrPath(a, attribute), caseSensitive),
                        sortKey(attribute == null ? b : attrPath(b, attribute), caseSensitive)));
                if (reverse) {
                    java.util.Collections.reverse(items);
                }
                return items;
            }
            case "unique" -> {
                boolean caseSensitive = truthy(arg(args, kw, 0, "case_sensitive", false));
                Object attribute = arg(args, kw, 1, "attribute", null);
                List<Object> out = new ArrayList<>();
                List<Object> seen = new ArrayList<>();
                for (Object x : iterate(v)) {
                    Object key = sortKey(attribute == null ? x : attrPath(x, attribute), caseSensitive);
                    if (seen.stream().noneMatch(s -> eq(s, key))) {
                        seen.add(key);
                        out.add(x);
                    }
                }
                return out;
            }
            case "min", "max" -> {
                boolean caseSensitive = truthy(arg(args, kw, 0, "case_sensitive", false));
                Object attribute = arg(args, kw, 1, "attribute", null);
                Object best = null;
                for (Object x : iterate(v)) {
                    if (best == null) {
                        best = x;
                        continue;
                    }
                    int c = JinjaValues.compare(sortKey(attribute == null ? x : attrPath(x, attribute), caseSensitive),
                            sortKey(attribute == null ? best : attrPath(best, attribute), caseSensitive));
                    if (name.equals("max") ? c > 0 : c < 0) {
                        best = x;
                    }
                }
                return best == null ? Undefined.hint("No aggregated item, sequence was empty.") : best;
            }
            case "sum" -> {
                Object attribute = arg(args, kw, 0, "attribute", null);
                Object total = arg(args, kw, 1, "start", 0L);
                for (Object x : iterate(v)) {
                    total = JinjaInterpreter.binary("+", total, attribute == null ? x : attrPath(x, attribute));
                }
                return total;
            }
            case "map" -> {
                List<Object> out = new ArrayList<>();
                if (kw.containsKey("attribute")) {
                    Object dflt = kw.get("default");
                    for (Object x : iterate(v)) {
                        Object a = attrPath(x, kw.get("attribute"));
                        out.add(a instanceof Undefined && dflt != null ? dflt : a);
                    }
                    return out;
                }
                if (args.isEmpty()) {
                    throw new ChatTemplateException("map() needs a filter name or attribute=");
                }
                String f = str(args.get(0));
                List<Object> rest = args.subList(1, args.size());
                for (Object x : iterate(v)) {
                    out.add(filter(f, x, rest, kw, tester));
                }
                return out;
            }
            case "select", "reject", "selectattr", "rejectattr" -> {
                boolean attr = name.endsWith("attr");
                boolean select = name.startsWith("select");
                int k = 0;
                Object attribute = attr ? args.get(k++) : null;
                String testName = k < args.size() ? str(args.get(k++)) : null;
                List<Object> testArgs = k <= args.size() ? args.subList(k, args.size()) : List.of();
                List<Object> out = new ArrayList<>();
                for (Object x : iterate(v)) {
                    Object tv = attr ? attrPath(x, attribute) : x;
                    boolean ok = testName == null ? truthy(tv) : tester.test(testName, tv, testArgs);
                    if (ok == select) {
                        out.add(x);
                    }
                }
                return out;
            }
            case "attr" -> {
                return JinjaInterpreter.getAttr(v, str(args.get(0)));
            }
            case "tojson" -> {
                // transformers' override: json.dumps(x, ensure_ascii=False, indent=None, separators=None,
                // sort_keys=False)
                Object indent = arg(args, kw, 1, "indent", null);
                if (kw.containsKey("indent") || args.size() > 0) {
                    indent = kw.containsKey("indent") ? kw.get("indent") : args.get(0);
                }
                return toJson(v, truthy(kw.getOrDefault("ensure_ascii", false)), indent,
                        kw.get("separators"), truthy(kw.getOrDefault("sort_keys", false)));
            }
            case "format" -> {
                return percentFormat(text(v, name), args);
            }
            case "indent" -> {
                Object width = arg(args, kw, 0, "width", 4L);
                boolean first = truthy(arg(args, kw, 1, "first", false));
                boolean blank = truthy(arg(args, kw, 2, "blank", false));
                String pad = width instanceof String s ? s : " ".repeat((int) toLong(width));
                String s = text(v, name);
                String[] lines = s.split("\n", -1);
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < lines.length; i++) {
                    if (i > 0) {
                        sb.append('\n');
                    }
                    boolean indentIt = (i > 0 || first) && (blank || !lines[i].isBlank());
                    sb.append(indentIt ? pad : "").append(lines[i]);
                }
                return sb.toString();
            }
            case "truncate" -> {
                String s = text(v, name);
                int length = (int) toLong(arg(args, kw, 0, "length", 255L));
                boolean killwords = truthy(arg(args, kw, 1, "killwords", false));
                String end = str(arg(args, kw, 2, "end", "..."));
                Object leeway = arg(args, kw, 3, "leeway", 5L);
                int cps = s.codePointCount(0, s.length());
                if (cps <= length + toLong(leeway == null ? 5L : leeway)) {
                    return s;
                }
                int endLen = end.codePointCount(0, end.length());
                String cut = s.substring(0, s.offsetByCodePoints(0, Math.max(0, length - endLen)));
                if (killwords) {
                    return cut + end;
                }
                int sp = cut.lastIndexOf(' ');
                return (sp >= 0 ? cut.substring(0, sp) : cut) + end;
            }
            case "wordcount" -> {
                Matcher m = Pattern.compile("\\w+", Pattern.UNICODE_CHARACTER_CLASS).matcher(text(v, name));
                long n = 0;
                while (m.find()) {
                    n++;
                }
                return n;
            }
            default -> throw new ChatTemplateException("no filter named '" + name + "'");
        }
    }

    private static Object toInt(Object v, Object dflt) {
        if (v instanceof Long || v instanceof Boolean) {
            return toLong(v);
        }
        if (v instanceof Double d) {
            return (long) (double) d;
        }
        String s = str(v).strip().replace("_", "");
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            try {
                return (long) Double.parseDouble(s);
            } catch (NumberFormatException e2) {
                return dflt;
            }
        }
    }

    private static Object sortKey(Object v, boolean caseSensitive) {
        return !caseSensitive && v instanceof String s ? s.toLowerCase(Locale.ROOT) : v;
    }

    /** {@code attribute="a.b"} or an integer index, as jinja2's {@code make_attrgetter}. */
    private static Object attrPath(Object x, Object attribute) {
        if (attribute instanceof Long) {
            return JinjaInterpreter.getItem(x, attribute);
        }
        Object cur = x;
        for (String part : str(attribute).split("\\.")) {
            cur = part.matches("\\d+") ? JinjaInterpreter.getItem(cur, Long.parseLong(part))
                    : getAttrOrItem(cur, part);
        }
        return cur;
    }

    private static Object getAttrOrItem(Object x, String name) {
        if (x instanceof Undefined) {
            return x;
        }
        return JinjaInterpreter.getAttr(x, name);
    }

    private static List<Object> items(Object v) {
        List<Object> out = new ArrayList<>();
        if (v instanceof Namespace ns) {
            v = ns.attrs;
        }
        if (!(v instanceof Map<?, ?> m)) {
            throw new ChatTemplateException("can only get item pairs from a mapping, not " + typeName(v));
        }
        for (Map.Entry<?, ?> e : m.entrySet()) {
            out.add(new Tuple(List.of(e.getKey(), e.getValue() == null ? NULL_MARK : e.getValue())));
        }
        // List.of cannot hold null: restore Python None values
        List<Object> fixed = new ArrayList<>();
        for (Object t : out) {
            List<Object> pair = new ArrayList<>(((Tuple) t).items());
            if (pair.get(1) == NULL_MARK) {
                pair.set(1, null);
            }
            fixed.add(new Tuple(pair));
        }
        return fixed;
    }

    private static final Object NULL_MARK = new Object();

    // ------------------------------------------------------------------------------------------------ methods

    /** A Python method call on a value ({@code s.strip()}, {@code d.items()}, {@code l.index(x)}). */
    static Object method(Object target, String name, List<Object> args, Map<String, Object> kw) {
        if (target instanceof Undefined u) {
            throw new ChatTemplateException(u.message());
        }
        if (target instanceof String s) {
            return stringMethod(s, name, args);
        }
        if (target instanceof Map<?, ?> m) {
            switch (name) {
                case "items" -> {
                    return items(m);
                }
                case "keys" -> {
                    return new ArrayList<Object>(m.keySet());
                }
                case "values" -> {
                    return new ArrayList<Object>(m.values());
                }
                case "get" -> {
                    Object key = args.get(0);
                    return m.containsKey(key) ? m.get(key) : (args.size() > 1 ? args.get(1) : null);
                }
                default -> { }
            }
        }
        if (target instanceof List<?> || target instanceof Tuple) {
            List<Object> items = iterate(target);
            switch (name) {
                case "index" -> {
                    for (int i = 0; i < items.size(); i++) {
                        if (eq(items.get(i), args.get(0))) {
                            return (long) i;
                        }
                    }
                    throw new ChatTemplateException(JinjaValues.repr(args.get(0)) + " is not in list");
                }
                case "count" -> {
                    return items.stream().filter(x -> eq(x, args.get(0))).count();
                }
                case "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse" ->
                        // jinja2 ImmutableSandboxedEnvironment (used by transformers) refuses mutation
                        throw new ChatTemplateException("access to attribute '" + name + "' of '"
                                + typeName(target) + "' object is unsafe.");
                default -> { }
            }
        }
        throw new ChatTemplateException("'" + typeName(target) + " object' has no attribute '" + name + "'");
    }

    private static Object stringMethod(String s, String name, List<Object> args) {
        Object a0 = args.isEmpty() ? null : args.get(0);
        switch (name) {
            case "strip", "lstrip", "rstrip" -> {
                return strip(s, a0 == null ? null : str(a0), !name.equals("rstrip"), !name.equals("lstrip"));
            }
            case "startswith", "endswith" -> {
                List<Object> options = a0 instanceof Tuple t ? t.items() : List.of(a0);
                for (Object o : options) {
                    if (name.equals("startswith") ? s.startsWith(str(o)) : s.endsWith(str(o))) {
                        return true;
                    }
                }
                return false;
            }
            case "split", "rsplit" -> {
                long max = args.size() > 1 ? toLong(args.get(1)) : -1;
                return name.equals("split") ? split(s, a0 == null ? null : str(a0), max)
                        : rsplit(s, a0 == null ? null : str(a0), max);
            }
            case "splitlines" -> {
                List<Object> out = new ArrayList<>(List.of(s.split("\r\n|\r|\n", -1)));
                if (!out.isEmpty() && ((String) out.get(out.size() - 1)).isEmpty()) {
                    out.remove(out.size() - 1);
                }
                return out;
            }
            case "upper" -> {
                return s.toUpperCase(Locale.ROOT);
            }
            case "lower" -> {
                return s.toLowerCase(Locale.ROOT);
            }
            case "title" -> {
                // Python str.title: a letter after a non-letter is upper, other letters lower
                StringBuilder sb = new StringBuilder();
                boolean prevCased = false;
                for (int i = 0; i < s.length(); ) {
                    int cp = s.codePointAt(i);
                    i += Character.charCount(cp);
                    if (Character.isLetter(cp)) {
                        sb.appendCodePoint(prevCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp));
                        prevCased = true;
                    } else {
                        sb.appendCodePoint(cp);
                        prevCased = false;
                    }
                }
                return sb.toString();
            }
            case "capitalize" -> {
                return capitalize(s);
            }
            case "replace" -> {
                return replace(s, str(args.get(0)), str(args.get(1)), args.size() > 2 ? toLong(args.get(2)) : -1);
            }
            case "find", "rfind", "index", "rindex" -> {
                String sub = str(a0);
                int i = name.startsWith("r") ? s.lastIndexOf(sub) : s.indexOf(sub);
                if (i < 0 && name.endsWith("index")) {
                    throw new ChatTemplateException("substring not found");
                }
                return i < 0 ? -1L : (long) s.codePointCount(0, i);
            }
            case "count" -> {
                String sub = str(a0);
                if (sub.isEmpty()) {
                    return (long) s.codePointCount(0, s.length()) + 1;
                }
                long n = 0;
                for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) {
                    n++;
                }
                return n;
            }
            case "join" -> {
                StringBuilder sb = new StringBuilder();
                boolean first = true;
                for (Object x : iterate(a0)) {
                    if (!(x instanceof String)) {
                        throw new ChatTemplateException("sequence item: expected str instance, " + typeName(x)
                                + " found");
                    }
                    sb.append(first ? "" : s).append((String) x);
                    first = false;
                }
                return sb.toString();
            }
            case "isdigit", "isnumeric", "isdecimal" -> {
                return !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            }
            case "isalpha" -> {
                return !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            }
            case "isalnum" -> {
                return !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            }
            case "isspace" -> {
                return !s.isEmpty() && s.codePoints().allMatch(JinjaFilters::isSpace);
            }
            case "isupper" -> {
                return s.codePoints().anyMatch(Character::isLetter) && s.equals(s.toUpperCase(Locale.ROOT));
            }
            case "islower" -> {
                return s.codePoints().anyMatch(Character::isLetter) && s.equals(s.toLowerCase(Locale.ROOT));
            }
            default -> throw new ChatTemplateException("'str object' has no attribute '" + name + "'");
        }
    }

    /** Python's {@code str.isspace()} per character. */
    static boolean isSpace(int cp) {
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
    }

    /** Python's {@code str.strip(chars)}: whitespace when {@code chars} is null. */
    static String strip(String s, String chars, boolean left, boolean right) {
        int start = 0;
        int end = s.length();
        while (left && start < end) {
            int cp = s.codePointAt(start);
            if (chars == null ? !isSpace(cp) : chars.indexOf(cp) < 0) {
                break;
            }
            start += Character.charCount(cp);
        }
        while (right && end > start) {
            int cp = s.codePointBefore(end);
            if (chars == null ? !isSpace(cp) : chars.indexOf(cp) < 0) {
                break;
            }
            end -= Character.charCount(cp);
        }
        return s.substring(start, end);
    }

    private static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int cp = s.codePointAt(0);
        return new StringBuilder().appendCodePoint(Character.toTitleCase(cp))
                .append(s.substring(Character.charCount(cp)).toLowerCase(Locale.ROOT)).toString();
    }

    private static String replace(String s, String old, String rep, long count) {
        if (count < 0) {
            if (old.isEmpty()) {
                StringBuilder sb = new StringBuilder(rep);
                s.codePoints().forEach(cp -> sb.appendCodePoint(cp).append(rep));
                return sb.toString();
            }
            return s.replace(old, rep);
        }
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (long n = 0; n < count; n++) {
            int i = s.indexOf(old, from);
            if (i < 0 || old.isEmpty()) {
                break;
            }
            sb.append(s, from, i).append(rep);
            from = i + old.length();
        }
        return sb.append(s.substring(from)).toString();
    }

    /** Python's {@code str.split(sep, maxsplit)}. */
    static List<Object> split(String s, String sep, long max) {
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            while (i < s.length()) {
                while (i < s.length() && isSpace(s.charAt(i))) {
                    i++;
                }
                if (i >= s.length()) {
                    break;
                }
                if (max >= 0 && out.size() == max) {
                    out.add(strip(s.substring(i), null, false, true));
                    return out;
                }
                int j = i;
                while (j < s.length() && !isSpace(s.charAt(j))) {
                    j++;
                }
                out.add(s.substring(i, j));
                i = j;
            }
            return out;
        }
        if (sep.isEmpty()) {
            throw new ChatTemplateException("empty separator");
        }
        int from = 0;
        while (max < 0 || out.size() < max) {
            int i = s.indexOf(sep, from);
            if (i < 0) {
                break;
            }
            out.add(s.substring(from, i));
            from = i + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    private static List<Object> rsplit(String s, String sep, long max) {
        if (max < 0 || sep == null) {
            return split(s, sep, max);
        }
        List<Object> out = new ArrayList<>();
        int end = s.length();
        while (out.size() < max) {
            int i = s.lastIndexOf(sep, end - sep.length());
            if (i < 0) {
                break;
            }
            out.add(0, s.substring(i + sep.length(), end));
            end = i;
        }
        out.add(0, s.substring(0, end));
        return out;
    }

    // ------------------------------------------------------------------------------------------------ formatting

    private static final Pattern PERCENT = Pattern.compile("%([-+ 0#]*)(\\d+)?(?:\\.(\\d+))?([sdirfeEgx%])");

    /** Python {@code %}-formatting for the usual conversions ({@code %s %d %i %r %f %.Nf %x %%}). */
    static String percentFormat(String fmt, List<Object> args) {
        Matcher m = PERCENT.matcher(fmt);
        StringBuilder sb = new StringBuilder();
        int k = 0;
        int last = 0;
        while (m.find()) {
            sb.append(fmt, last, m.start());
            last = m.end();
            char conv = m.group(4).charAt(0);
            if (conv == '%') {
                sb.append('%');
                continue;
            }
            if (k >= args.size()) {
                throw new ChatTemplateException("not enough arguments for format string");
            }
            Object a = args.get(k++);
            String flags = m.group(1);
            String width = m.group(2) == null ? "" : m.group(2);
            String prec = m.group(3) == null ? "" : "." + m.group(3);
            String out = switch (conv) {
                case 's' -> str(a);
                case 'r' -> JinjaValues.repr(a);
                case 'd', 'i' -> Long.toString(toLong(a instanceof Double d ? (long) (double) d : a));
                case 'x' -> Long.toHexString(toLong(a));
                default -> String.format(Locale.ROOT, "%" + prec + conv, toDouble(a));
            };
            if (!width.isEmpty()) {
                int w = Integer.parseInt(width);
                boolean leftAlign = flags.contains("-");
                char pad = flags.contains("0") && !leftAlign && conv != 's' ? '0' : ' ';
                while (out.length() < w) {
                    out = leftAlign ? out + ' ' : pad + out;
                }
            }
            sb.append(out);
        }
        return sb.append(fmt.substring(last)).toString();
    }

    /** Python's {@code json.dumps} with its defaults: separators {@code ", "} and {@code ": "} (or {@code ","} with an
     * indent), floats as {@code repr}, non-ASCII kept unless {@code ensure_ascii}. */
    static String toJson(Object v, boolean ensureAscii, Object indent, Object separators, boolean sortKeys) {
        String indentStr = indent == null ? null
                : indent instanceof String s ? s : " ".repeat((int) Math.max(0, toLong(indent)));
        String itemSep = indentStr == null ? ", " : ",";
        String keySep = ": ";
        if (separators != null) {
            List<Object> seps = iterate(separators);
            itemSep = str(seps.get(0));
            keySep = str(seps.get(1));
        }
        StringBuilder sb = new StringBuilder();
        json(v, sb, ensureAscii, indentStr, itemSep, keySep, sortKeys, 0);
        return sb.toString();
    }

    private static void json(Object v, StringBuilder sb, boolean ascii, String indent, String itemSep, String keySep,
            boolean sortKeys, int depth) {
        if (v instanceof Undefined u) {
            throw new ChatTemplateException("Object of type Undefined is not JSON serializable ('" + u.name() + "')");
        }
        if (v == null) {
            sb.append("null");
        } else if (v instanceof Boolean b) {
            sb.append(b ? "true" : "false");
        } else if (v instanceof Long l) {
            sb.append(l);
        } else if (v instanceof Double d) {
            sb.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity")
                    : JinjaValues.floatRepr(d));
        } else if (v instanceof String s) {
            jsonString(s, sb, ascii);
        } else if (v instanceof Map<?, ?> || v instanceof Namespace) {
            Map<?, ?> m = v instanceof Namespace ns ? ns.attrs : (Map<?, ?>) v;
            if (m.isEmpty()) {
                sb.append("{}");
                return;
            }
            List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
            if (sortKeys) {
                entries.sort((a, b) -> JinjaValues.compare(a.getKey(), b.getKey()));
            }
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : entries) {
                sb.append(first ? "" : itemSep);
                newline(sb, indent, depth + 1);
                Object key = e.getKey();
                jsonString(key instanceof String s ? s : key == null ? "null"
                        : key instanceof Boolean b ? (b ? "true" : "false") : str(key), sb, ascii);
                sb.append(keySep);
                json(e.getValue(), sb, ascii, indent, itemSep, keySep, sortKeys, depth + 1);
                first = false;
            }
            newline(sb, indent, depth);
            sb.append('}');
        } else if (v instanceof Collection<?> || v instanceof Tuple) {
            List<Object> items = iterate(v);
            if (items.isEmpty()) {
                sb.append("[]");
                return;
            }
            sb.append('[');
            boolean first = true;
            for (Object x : items) {
                sb.append(first ? "" : itemSep);
                newline(sb, indent, depth + 1);
                json(x, sb, ascii, indent, itemSep, keySep, sortKeys, depth + 1);
                first = false;
            }
            newline(sb, indent, depth);
            sb.append(']');
        } else {
            throw new ChatTemplateException("Object of type " + typeName(v) + " is not JSON serializable");
        }
    }

    private static void newline(StringBuilder sb, String indent, int depth) {
        if (indent != null) {
            sb.append('\n').append(indent.repeat(depth));
        }
    }

    private static void jsonString(String s, StringBuilder sb, boolean ascii) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || (ascii && c > 0x7e)) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
