package org.rlhf4j.core.tokenizer;

import static org.rlhf4j.core.tokenizer.JinjaValues.UNDEFINED;
import static org.rlhf4j.core.tokenizer.JinjaValues.eq;
import static org.rlhf4j.core.tokenizer.JinjaValues.isNumber;
import static org.rlhf4j.core.tokenizer.JinjaValues.iterate;
import static org.rlhf4j.core.tokenizer.JinjaValues.repr;
import static org.rlhf4j.core.tokenizer.JinjaValues.str;
import static org.rlhf4j.core.tokenizer.JinjaValues.toDouble;
import static org.rlhf4j.core.tokenizer.JinjaValues.toLong;
import static org.rlhf4j.core.tokenizer.JinjaValues.truthy;
import static org.rlhf4j.core.tokenizer.JinjaValues.typeName;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.rlhf4j.core.tokenizer.JinjaParser.Attr;
import org.rlhf4j.core.tokenizer.JinjaParser.Binary;
import org.rlhf4j.core.tokenizer.JinjaParser.Call;
import org.rlhf4j.core.tokenizer.JinjaParser.Compare;
import org.rlhf4j.core.tokenizer.JinjaParser.CondExpr;
import org.rlhf4j.core.tokenizer.JinjaParser.DictLit;
import org.rlhf4j.core.tokenizer.JinjaParser.Expr;
import org.rlhf4j.core.tokenizer.JinjaParser.Filter;
import org.rlhf4j.core.tokenizer.JinjaParser.Item;
import org.rlhf4j.core.tokenizer.JinjaParser.ListLit;
import org.rlhf4j.core.tokenizer.JinjaParser.Literal;
import org.rlhf4j.core.tokenizer.JinjaParser.Name;
import org.rlhf4j.core.tokenizer.JinjaParser.Node;
import org.rlhf4j.core.tokenizer.JinjaParser.Slice;
import org.rlhf4j.core.tokenizer.JinjaParser.Test;
import org.rlhf4j.core.tokenizer.JinjaParser.TupleLit;
import org.rlhf4j.core.tokenizer.JinjaParser.Unary;
import org.rlhf4j.core.tokenizer.JinjaValues.Fn;
import org.rlhf4j.core.tokenizer.JinjaValues.Namespace;
import org.rlhf4j.core.tokenizer.JinjaValues.Tuple;
import org.rlhf4j.core.tokenizer.JinjaValues.Undefined;

/**
 * Renders a parsed template with jinja2's semantics for what chat templates use (statements, expressions, the
 * built-in filters and tests, Python's string/dict/list methods that jinja2's sandbox lets through) and transformers'
 * additions ({@code raise_exception}, {@code strftime_now}, the {@code tojson} override, {@code {% generation %}}).
 */
final class JinjaInterpreter {

    private enum Flow { NORMAL, BREAK, CONTINUE }

    /** A variable scope: the template, one loop iteration, or one macro call. */
    private static final class Frame {
        final Map<String, Object> vars = new HashMap<>();
        final Frame parent;

        Frame(Frame parent) {
            this.parent = parent;
        }
    }

    private final Map<String, Object> globals;
    private final List<int[]> spans = new ArrayList<>();

    JinjaInterpreter(Map<String, Object> globals) {
        this.globals = globals;
    }

    /** Renders the nodes; {@link #spans()} then holds the {@code {% generation %}} spans. */
    String render(List<Node> nodes) {
        StringBuilder out = new StringBuilder();
        Frame root = new Frame(null);
        if (exec(nodes, root, out) != Flow.NORMAL) {
            throw new ChatTemplateException("'break' or 'continue' outside a loop");
        }
        return out.toString();
    }

    /** The [start, end) character ranges of the {@code {% generation %}} blocks, in render order. */
    List<int[]> spans() {
        return spans;
    }

    // ------------------------------------------------------------------------------------------------ statements

    private Flow exec(List<Node> nodes, Frame f, StringBuilder out) {
        for (Node n : nodes) {
            Flow flow = exec(n, f, out);
            if (flow != Flow.NORMAL) {
                return flow;
            }
        }
        return Flow.NORMAL;
    }

    private Flow exec(Node n, Frame f, StringBuilder out) {
        if (n instanceof JinjaParser.Text t) {
            out.append(t.text());
        } else if (n instanceof JinjaParser.Output o) {
            out.append(str(eval(o.expr(), f)));
        } else if (n instanceof JinjaParser.If i) {
            for (int k = 0; k < i.conditions().size(); k++) {
                if (truthy(eval(i.conditions().get(k), f))) {
                    return exec(i.bodies().get(k), f, out);
                }
            }
            return exec(i.orElse(), f, out);
        } else if (n instanceof JinjaParser.For loop) {
            execFor(loop, f, out);
        } else if (n instanceof JinjaParser.Set s) {
            Object v = eval(s.value(), f);
            if (s.targets().size() == 1) {
                assign(s.targets().get(0), v, f);
            } else {
                List<Object> items = iterate(v);
                if (items.size() != s.targets().size()) {
                    throw new ChatTemplateException("line " + s.line() + ": cannot unpack " + items.size()
                            + " values into " + s.targets().size() + " names");
                }
                for (int k = 0; k < items.size(); k++) {
                    assign(s.targets().get(k), items.get(k), f);
                }
            }
        } else if (n instanceof JinjaParser.SetBlock s) {
            StringBuilder sb = new StringBuilder();
            exec(s.body(), f, sb);
            assign(s.target(), sb.toString(), f);
        } else if (n instanceof JinjaParser.Macro m) {
            f.vars.put(m.name(), macro(m, f));
        } else if (n instanceof JinjaParser.FilterBlock fb) {
            StringBuilder sb = new StringBuilder();
            exec(fb.body(), f, sb);
            List<Object> args = new ArrayList<>();
            for (Expr a : fb.args()) {
                args.add(eval(a, f));
            }
            out.append(str(filter(fb.filter(), sb.toString(), args, Map.of())));
        } else if (n instanceof JinjaParser.Generation g) {
            // transformers AssistantTracker._generation_support: the block renders as is; its span is recorded
            StringBuilder sb = new StringBuilder();
            Flow flow = exec(g.body(), f, sb);
            int start = out.length();
            out.append(sb);
            spans.add(new int[] {start, out.length()});
            return flow;
        } else if (n instanceof JinjaParser.Break) {
            return Flow.BREAK;
        } else if (n instanceof JinjaParser.Continue) {
            return Flow.CONTINUE;
        }
        return Flow.NORMAL;
    }

    private void assign(Expr target, Object value, Frame f) {
        if (target instanceof Name n) {
            f.vars.put(n.name(), value);
        } else if (target instanceof Attr a) {
            Object ns = eval(a.target(), f);
            if (!(ns instanceof Namespace space)) {
                throw new ChatTemplateException("cannot assign attribute on non-namespace object");
            }
            space.attrs.put(a.name(), value);
        } else {
            throw new ChatTemplateException("cannot assign to this expression");
        }
    }

    private void execFor(JinjaParser.For loop, Frame f, StringBuilder out) {
        List<Object> items = iterate(eval(loop.iterable(), f));
        if (loop.filter() != null) { // {% for x in xs if cond %}: filtered before the loop variables are computed
            List<Object> kept = new ArrayList<>();
            for (Object item : items) {
                Frame tf = new Frame(f);
                bindTargets(loop, item, tf);
                if (truthy(eval(loop.filter(), tf))) {
                    kept.add(item);
                }
            }
            items = kept;
        }
        int n = items.size();
        for (int i = 0; i < n; i++) {
            Frame it = new Frame(f);
            bindTargets(loop, items.get(i), it);
            Map<String, Object> info = new HashMap<>();
            info.put("index", (long) i + 1);
            info.put("index0", (long) i);
            info.put("revindex", (long) (n - i));
            info.put("revindex0", (long) (n - i - 1));
            info.put("first", i == 0);
            info.put("last", i == n - 1);
            info.put("length", (long) n);
            info.put("previtem", i > 0 ? items.get(i - 1) : UNDEFINED);
            info.put("nextitem", i < n - 1 ? items.get(i + 1) : UNDEFINED);
            final int index = i;
            info.put("cycle", (Fn) (args, kw) -> args.isEmpty() ? UNDEFINED : args.get(index % args.size()));
            it.vars.put("loop", info);
            if (exec(loop.body(), it, out) == Flow.BREAK) {
                break;
            }
        }
        if (n == 0) {
            exec(loop.orElse(), new Frame(f), out);
        }
    }

    private void bindTargets(JinjaParser.For loop, Object item, Frame f) {
        if (loop.targets().size() == 1) {
            f.vars.put(loop.targets().get(0), item);
            return;
        }
        List<Object> parts = iterate(item);
        if (parts.size() != loop.targets().size()) {
            throw new ChatTemplateException("line " + loop.line() + ": cannot unpack " + parts.size() + " values into "
                    + loop.targets().size() + " loop variables");
        }
        for (int k = 0; k < parts.size(); k++) {
            f.vars.put(loop.targets().get(k), parts.get(k));
        }
    }

    private Fn macro(JinjaParser.Macro m, Frame defining) {
        return (args, kwargs) -> {
            Frame mf = new Frame(defining);
            for (int k = 0; k < m.params().size(); k++) {
                String p = m.params().get(k);
                Object v;
                if (k < args.size()) {
                    v = args.get(k);
                } else if (kwargs.containsKey(p)) {
                    v = kwargs.get(p);
                } else if (m.defaults().get(k) != null) {
                    v = eval(m.defaults().get(k), mf);
                } else {
                    v = new Undefined(p);
                }
                mf.vars.put(p, v);
            }
            StringBuilder sb = new StringBuilder();
            exec(m.body(), mf, sb);
            return sb.toString();
        };
    }

    // ------------------------------------------------------------------------------------------------ expressions

    private Object lookup(String name, Frame f) {
        for (Frame k = f; k != null; k = k.parent) {
            if (k.vars.containsKey(name)) {
                return k.vars.get(name);
            }
        }
        if (globals.containsKey(name)) {
            return globals.get(name);
        }
        return new Undefined(name);
    }

    Object eval(Expr e, Frame f) {
        if (e instanceof Literal l) {
            return l.value();
        }
        if (e instanceof Name n) {
            return lookup(n.name(), f);
        }
        if (e instanceof ListLit l) {
            List<Object> out = new ArrayList<>();
            for (Expr x : l.items()) {
                out.add(eval(x, f));
            }
            return out;
        }
        if (e instanceof TupleLit t) {
            List<Object> out = new ArrayList<>();
            for (Expr x : t.items()) {
                out.add(eval(x, f));
            }
            return new Tuple(out);
        }
        if (e instanceof DictLit d) {
            Map<Object, Object> out = new LinkedHashMap<>();
            for (int k = 0; k < d.keys().size(); k++) {
                out.put(eval(d.keys().get(k), f), eval(d.values().get(k), f));
            }
            return out;
        }
        if (e instanceof Attr a) {
            return getAttr(eval(a.target(), f), a.name());
        }
        if (e instanceof Item it) {
            return getItem(eval(it.target(), f), eval(it.index(), f));
        }
        if (e instanceof Slice s) {
            return slice(eval(s.target(), f), s.start() == null ? null : eval(s.start(), f),
                    s.stop() == null ? null : eval(s.stop(), f), s.step() == null ? null : eval(s.step(), f));
        }
        if (e instanceof Call c) {
            return call(c, f);
        }
        if (e instanceof Filter fl) {
            Object target = eval(fl.target(), f);
            List<Object> args = new ArrayList<>();
            for (Expr a : fl.args()) {
                args.add(eval(a, f));
            }
            Map<String, Object> kw = new LinkedHashMap<>();
            for (int k = 0; k < fl.kwNames().size(); k++) {
                kw.put(fl.kwNames().get(k), eval(fl.kwValues().get(k), f));
            }
            return filter(fl.name(), target, args, kw);
        }
        if (e instanceof Test t) {
            Object target = eval(t.target(), f);
            List<Object> args = new ArrayList<>();
            for (Expr a : t.args()) {
                args.add(eval(a, f));
            }
            return test(t.name(), target, args) != t.negated();
        }
        if (e instanceof Unary u) {
            Object v = eval(u.operand(), f);
            return switch (u.op()) {
                case "not" -> !truthy(v);
                case "-" -> neg(v);
                default -> v;
            };
        }
        if (e instanceof Binary b) {
            if (b.op().equals("and")) {
                Object l = eval(b.left(), f);
                return truthy(l) ? eval(b.right(), f) : l;
            }
            if (b.op().equals("or")) {
                Object l = eval(b.left(), f);
                return truthy(l) ? l : eval(b.right(), f);
            }
            return binary(b.op(), eval(b.left(), f), eval(b.right(), f));
        }
        if (e instanceof Compare c) {
            Object left = eval(c.first(), f);
            for (int k = 0; k < c.ops().size(); k++) {
                Object right = eval(c.rest().get(k), f);
                if (!compare(c.ops().get(k), left, right)) {
                    return false;
                }
                left = right;
            }
            return true;
        }
        if (e instanceof CondExpr c) {
            if (truthy(eval(c.condition(), f))) {
                return eval(c.then(), f);
            }
            return c.orElse() == null ? UNDEFINED : eval(c.orElse(), f);
        }
        throw new IllegalStateException("unknown expression " + e);
    }

    private static Object neg(Object v) {
        if (v instanceof Double d) {
            return -d;
        }
        if (isNumber(v)) {
            return -toLong(v);
        }
        throw new ChatTemplateException("bad operand type for unary -: '" + typeName(v) + "'");
    }

    private static void checkDefined(Object v) {
        if (v instanceof Undefined u) {
            throw new ChatTemplateException(u.message());
        }
    }

    static Object binary(String op, Object a, Object b) {
        if (op.equals("~")) {
            return str(a) + str(b);
        }
        checkDefined(a);
        checkDefined(b);
        switch (op) {
            case "+" -> {
                if (a instanceof String sa && b instanceof String sb) {
                    return sa + sb;
                }
                if ((a instanceof List || a instanceof Tuple) && (b instanceof List || b instanceof Tuple)) {
                    List<Object> out = new ArrayList<>(iterate(a));
                    out.addAll(iterate(b));
                    return a instanceof Tuple ? new Tuple(out) : out;
                }
                if (isNumber(a) && isNumber(b)) {
                    if (a instanceof Double || b instanceof Double) {
                        return toDouble(a) + toDouble(b);
                    }
                    return toLong(a) + toLong(b);
                }
            }
            case "-" -> {
                if (isNumber(a) && isNumber(b)) {
                    if (a instanceof Double || b instanceof Double) {
                        return toDouble(a) - toDouble(b);
                    }
                    return toLong(a) - toLong(b);
                }
            }
            case "*" -> {
                if (isNumber(a) && isNumber(b)) {
                    if (a instanceof Double || b instanceof Double) {
                        return toDouble(a) * toDouble(b);
                    }
                    return toLong(a) * toLong(b);
                }
                if (a instanceof String s && (b instanceof Long || b instanceof Boolean)) {
                    return s.repeat((int) Math.max(0, toLong(b)));
                }
                if (a instanceof List<?> l && (b instanceof Long || b instanceof Boolean)) {
                    List<Object> out = new ArrayList<>();
                    for (long k = 0; k < toLong(b); k++) {
                        out.addAll(l);
                    }
                    return out;
                }
            }
            case "/" -> {
                if (isNumber(a) && isNumber(b)) {
                    if (toDouble(b) == 0) {
                        throw new ChatTemplateException("division by zero");
                    }
                    return toDouble(a) / toDouble(b);
                }
            }
            case "//" -> {
                if (isNumber(a) && isNumber(b)) {
                    if (toDouble(b) == 0) {
                        throw new ChatTemplateException("integer division or modulo by zero");
                    }
                    if (a instanceof Double || b instanceof Double) {
                        return Math.floor(toDouble(a) / toDouble(b));
                    }
                    return Math.floorDiv(toLong(a), toLong(b));
                }
            }
            case "%" -> {
                if (a instanceof String s) {
                    return JinjaFilters.percentFormat(s, b instanceof Tuple t ? t.items() : List.of(b));
                }
                if (isNumber(a) && isNumber(b)) {
                    if (toDouble(b) == 0) {
                        throw new ChatTemplateException("integer division or modulo by zero");
                    }
                    if (a instanceof Double || b instanceof Double) {
                        double x = toDouble(a);
                        double y = toDouble(b);
                        return x - Math.floor(x / y) * y;
                    }
                    return Math.floorMod(toLong(a), toLong(b));
                }
            }
            case "**" -> {
                if (isNumber(a) && isNumber(b)) {
                    if (a instanceof Double || b instanceof Double || toLong(b) < 0) {
                        return Math.pow(toDouble(a), toDouble(b));
                    }
                    long r = 1;
                    for (long k = 0; k < toLong(b); k++) {
                        r *= toLong(a);
                    }
                    return r;
                }
            }
            default -> { }
        }
        throw new ChatTemplateException("unsupported operand type(s) for " + op + ": '" + typeName(a) + "' and '"
                + typeName(b) + "'");
    }

    static boolean compare(String op, Object a, Object b) {
        return switch (op) {
            case "==" -> eq(a, b);
            case "!=" -> !eq(a, b);
            case "<" -> JinjaValues.compare(a, b) < 0;
            case "<=" -> JinjaValues.compare(a, b) <= 0;
            case ">" -> JinjaValues.compare(a, b) > 0;
            case ">=" -> JinjaValues.compare(a, b) >= 0;
            case "in" -> contains(b, a);
            case "notin" -> !contains(b, a);
            default -> throw new IllegalStateException(op);
        };
    }

    static boolean contains(Object container, Object item) {
        if (container instanceof String s) {
            if (!(item instanceof String sub)) {
                throw new ChatTemplateException("'in <string>' requires string as left operand, not "
                        + typeName(item));
            }
            return s.contains(sub);
        }
        if (container instanceof Map<?, ?> m) {
            return m.containsKey(item);
        }
        if (container instanceof Undefined u) {
            throw new ChatTemplateException(u.message());
        }
        for (Object x : iterate(container)) {
            if (eq(x, item)) {
                return true;
            }
        }
        return false;
    }

    /** jinja2 {@code Environment.getattr}: the Python attribute, else the item. */
    static Object getAttr(Object obj, String name) {
        if (obj instanceof Undefined u) {
            throw new ChatTemplateException(u.message());
        }
        if (obj instanceof Namespace ns) {
            return ns.attrs.containsKey(name) ? ns.attrs.get(name)
                    : Undefined.hint("'Namespace' object has no attribute '" + name + "'");
        }
        if (obj instanceof Map<?, ?> m) {
            if (m.containsKey(name)) {
                return m.get(name);
            }
            return Undefined.hint("'dict object' has no attribute '" + name + "'");
        }
        return Undefined.hint("'" + typeName(obj) + " object' has no attribute '" + name + "'");
    }

    /** jinja2 {@code Environment.getitem}: {@code obj[key]}, undefined when missing. */
    static Object getItem(Object obj, Object key) {
        if (obj instanceof Undefined u) {
            throw new ChatTemplateException(u.message());
        }
        if (obj instanceof Map<?, ?> m) {
            if (m.containsKey(key)) {
                return m.get(key);
            }
            return Undefined.hint("'dict object' has no attribute " + repr(key));
        }
        if (obj instanceof Namespace && key instanceof String s) {
            return getAttr(obj, s);
        }
        if ((key instanceof Long || key instanceof Boolean)
                && (obj instanceof List || obj instanceof Tuple || obj instanceof String)) {
            List<Object> items = iterate(obj);
            long k = toLong(key);
            if (k < 0) {
                k += items.size();
            }
            if (k < 0 || k >= items.size()) {
                return Undefined.hint(typeName(obj) + " index out of range");
            }
            return items.get((int) k);
        }
        return Undefined.hint("'" + typeName(obj) + " object' has no attribute " + repr(key));
    }

    /** Python slicing of lists, tuples and strings (by code point). */
    static Object slice(Object obj, Object start, Object stop, Object step) {
        checkDefined(obj);
        List<Object> items = iterate(obj);
        int n = items.size();
        long st = step == null ? 1 : toLong(step);
        if (st == 0) {
            throw new ChatTemplateException("slice step cannot be zero");
        }
        List<Object> out = new ArrayList<>();
        if (st > 0) {
            long lo = start == null ? 0 : clampIndex(toLong(start), n, 0, n);
            long hi = stop == null ? n : clampIndex(toLong(stop), n, 0, n);
            for (long k = lo; k < hi; k += st) {
                out.add(items.get((int) k));
            }
        } else {
            long lo = start == null ? n - 1 : clampIndex(toLong(start), n, -1, n - 1);
            long hi = stop == null ? -1 : clampIndex(toLong(stop), n, -1, n - 1);
            for (long k = lo; k > hi; k += st) {
                out.add(items.get((int) k));
            }
        }
        if (obj instanceof String) {
            StringBuilder sb = new StringBuilder();
            out.forEach(c -> sb.append((String) c));
            return sb.toString();
        }
        return obj instanceof Tuple ? new Tuple(out) : out;
    }

    private static long clampIndex(long k, int n, long lo, long hi) {
        if (k < 0) {
            k += n;
        }
        return Math.max(lo, Math.min(hi, k));
    }

    private Object call(Call c, Frame f) {
        List<Object> args = new ArrayList<>();
        for (Expr a : c.args()) {
            args.add(eval(a, f));
        }
        Map<String, Object> kw = new LinkedHashMap<>();
        for (int k = 0; k < c.kwNames().size(); k++) {
            kw.put(c.kwNames().get(k), eval(c.kwValues().get(k), f));
        }
        if (c.fn() instanceof Attr a) {
            Object target = eval(a.target(), f);
            if (target instanceof Map<?, ?> m && m.get(a.name()) instanceof Fn fn) {
                return fn.call(args, kw);
            }
            if (target instanceof Namespace ns && ns.attrs.get(a.name()) instanceof Fn fn) {
                return fn.call(args, kw);
            }
            return JinjaFilters.method(target, a.name(), args, kw);
        }
        Object fn = eval(c.fn(), f);
        if (fn instanceof Fn callable) {
            return callable.call(args, kw);
        }
        if (fn instanceof Undefined u) {
            throw new ChatTemplateException(u.message());
        }
        throw new ChatTemplateException("'" + typeName(fn) + "' object is not callable");
    }

    // ------------------------------------------------------------------------------------------------ filters, tests

    Object filter(String name, Object v, List<Object> args, Map<String, Object> kw) {
        return JinjaFilters.filter(name, v, args, kw, this::test);
    }

    boolean test(String name, Object v, List<Object> args) {
        Function<Integer, Object> arg = k -> {
            if (k >= args.size()) {
                throw new ChatTemplateException("test '" + name + "' needs an argument");
            }
            return args.get(k);
        };
        return switch (name) {
            case "defined" -> !(v instanceof Undefined);
            case "undefined" -> v instanceof Undefined;
            case "none" -> v == null;
            case "boolean" -> v instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(v);
            case "false" -> Boolean.FALSE.equals(v);
            case "integer" -> v instanceof Long;
            case "float" -> v instanceof Double;
            case "number" -> isNumber(v);
            case "string" -> v instanceof String;
            case "mapping" -> v instanceof Map || v instanceof Namespace;
            case "iterable" -> v instanceof String || v instanceof Collection || v instanceof Map
                    || v instanceof Tuple;
            case "sequence" -> v instanceof String || v instanceof List || v instanceof Map || v instanceof Tuple;
            case "callable" -> v instanceof Fn;
            case "sameas" -> v == arg.apply(0) || (v != null && isNumber(v) && eq(v, arg.apply(0))
                    && v.getClass() == arg.apply(0).getClass());
            case "eq", "equalto", "==" -> eq(v, arg.apply(0));
            case "ne", "!=" -> !eq(v, arg.apply(0));
            case "lt", "lessthan", "<" -> JinjaValues.compare(v, arg.apply(0)) < 0;
            case "le", "<=" -> JinjaValues.compare(v, arg.apply(0)) <= 0;
            case "gt", "greaterthan", ">" -> JinjaValues.compare(v, arg.apply(0)) > 0;
            case "ge", ">=" -> JinjaValues.compare(v, arg.apply(0)) >= 0;
            case "in" -> contains(arg.apply(0), v);
            case "even" -> toLong(v) % 2 == 0;
            case "odd" -> toLong(v) % 2 != 0;
            case "divisibleby" -> toLong(v) % toLong(arg.apply(0)) == 0;
            case "lower" -> v instanceof String s && s.equals(s.toLowerCase(Locale.ROOT));
            case "upper" -> v instanceof String s && s.equals(s.toUpperCase(Locale.ROOT));
            default -> throw new ChatTemplateException("no test named '" + name + "'");
        };
    }

    /** Python's {@code round(x, n)} on the exact binary value (half to even). */
    static double round(double x, int digits) {
        return new BigDecimal(x).setScale(digits, RoundingMode.HALF_EVEN).doubleValue();
    }

    static final Comparator<Object> PY_ORDER = JinjaValues::compare;
}
