#!/usr/bin/env python3
"""Writes Fixtures/expected.json: what Python jinja2 renders for every case the Swift tests check.

The environment is the one Hugging Face transformers builds in `apply_chat_template`
(utils/chat_template_utils.py): ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
with the loop-controls extension and the `{% generation %}` tag, `tojson` overridden by
json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False), and the globals
raise_exception(message) and strftime_now(format). strftime_now reads a fixed clock (FIXED_NOW) so that
the outputs are reproducible; the Swift tests inject the same instant.

Every case renders a context (variables) with either a fixture template file or an inline source.
Model templates get the context transformers passes: messages, tools=None, documents=None,
add_generation_prompt, bos_token, eos_token, plus extra variables.

Run from anywhere:  python3 Tests/ChatTemplateTests/make_expected.py
"""

import datetime
import json
import pathlib

import jinja2
import jinja2.ext
import jinja2.nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE / "Fixtures"
TEMPLATES = FIXTURES / "templates"
FIXED_NOW = datetime.datetime(2024, 9, 5, 14, 3, 7)  # a Thursday; the Swift side uses the same instant in UTC


class GenerationTag(jinja2.ext.Extension):
    """transformers' AssistantTracker when not tracking: `{% generation %}` renders its body as a call block."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(lineno)

    def _generation_support(self, caller):
        return caller()


def make_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return FIXED_NOW.strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


ENV = make_env()


def render(source, context):
    """Returns {"output": text} or {"error": message, "error_kind": "syntax"|"raised"|"runtime"}."""
    try:
        template = ENV.from_string(source)
    except jinja2.exceptions.TemplateSyntaxError as e:
        return {"error": str(e.message), "error_kind": "syntax"}
    except jinja2.exceptions.TemplateAssertionError as e:
        return {"error": str(e), "error_kind": "syntax"}
    except SyntaxError as e:  # e.g. `break` outside a loop fails when Python compiles the generated code
        return {"error": str(e), "error_kind": "syntax"}
    try:
        return {"output": template.render(**context)}
    except jinja2.exceptions.UndefinedError as e:
        return {"error": str(e), "error_kind": "runtime"}
    except jinja2.exceptions.TemplateError as e:
        # raise_exception raises a bare TemplateError; jinja2's own failures use subclasses.
        kind = "raised" if type(e) is jinja2.exceptions.TemplateError else "runtime"
        return {"error": str(e), "error_kind": kind}
    except Exception as e:  # TypeError, ZeroDivisionError, SecurityError...
        return {"error": f"{type(e).__name__}: {e}", "error_kind": "runtime"}


# ---------------------------------------------------------------------------------------------- conversations

def msg(role, content):
    return {"role": role, "content": content}


LONG_PARAGRAPH = (
    "The quick brown fox jumps over the lazy dog. " * 12
    + "\n\nSecond paragraph: numbers 1, 2.5, -3; symbols {} [] <> | ~ ` ^; quotes ' \" and backslash \\.\n"
)

CONVERSATIONS = {
    "system_user": [msg("system", "You are a careful assistant."), msg("user", "What is the capital of France?")],
    "user_only": [msg("user", "Hello!")],
    "multi_turn": [
        msg("system", "Answer briefly."),
        msg("user", "Name a prime number."),
        msg("assistant", "7"),
        msg("user", "Another one?"),
    ],
    "multi_turn_no_system": [
        msg("user", "Hi there"),
        msg("assistant", "Hello! How can I help?"),
        msg("user", "Write code to add two numbers."),
        msg("assistant", "def add(a, b):\n    return a + b"),
    ],
    "special_chars": [
        msg("system", "  Keep {{ braces }}, {% tags %} and {# comments #} literal.  \n"),
        msg("user", "Quotes: 'single' \"double\" `back`; escapes: \\n \\t \\\\; tags: <|im_end|> <end_of_turn> <|eot_id|>"),
        msg("assistant", "\tIndented line\n\n  trailing spaces   \n"),
        msg("user", "What about %s and {0} and \x01 control?"),
    ],
    "empty_content": [msg("system", ""), msg("user", ""), msg("assistant", ""), msg("user", "")],
    "unicode": [
        msg("system", "Réponds en français, s'il te plaît. 日本語も大丈夫。"),
        msg("user", "Emoji 😀👍🏽, Arabic مرحبا, Hindi नमस्ते, math ∑∫√, nbsp\u00a0here, ZWJ 👩\u200d💻"),
    ],
    "long": [msg("system", LONG_PARAGRAPH)]
    + [msg("user" if i % 2 == 0 else "assistant", f"Turn {i}: " + LONG_PARAGRAPH[: 200 + 37 * i]) for i in range(9)],
    "whitespace_only": [msg("user", "   \n\t  ")],
    "system_only": [msg("system", "Only a system prompt.")],
}

ERROR_CONVERSATIONS = {
    "double_user": [msg("user", "one"), msg("user", "two")],
    "assistant_first": [msg("assistant", "I speak first"), msg("user", "ok")],
    "system_then_assistant": [msg("system", "sys"), msg("assistant", "hi")],
}

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather — in °C or °F — for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. \"Paris\""},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7.5},
            },
            "required": ["city"],
        },
    },
}
CLOCK_TOOL = {"type": "function", "function": {"name": "now", "description": "Current time", "parameters": {}}}

TOOL_CONVERSATION = [
    msg("system", "You can call tools."),
    msg("user", "Weather in Paris?"),
    {"role": "assistant", "content": "",
     "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}]},
    {"role": "tool", "content": "{\"temperature\": 21, \"sky\": \"clear\"}"},
    msg("assistant", "It is 21 °C and clear."),
    msg("user", "Thanks!"),
]
QWEN_MULTI_TOOL = [
    msg("user", "Weather in Paris and Rome?"),
    {"role": "assistant", "content": "Let me check.",
     "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
                    {"function": {"name": "get_weather", "arguments": {"city": "Rome"}}}]},
    {"role": "tool", "content": "sunny"},
    {"role": "tool", "content": "rainy"},
    msg("assistant", "Paris is sunny, Rome is rainy."),
]
LLAMA_TOOL_DICT_CONTENT = [
    msg("user", "Temperature?"),
    {"role": "assistant", "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]},
    {"role": "ipython", "content": {"temperature": -3, "unit": "celsius"}},
]
LLAMA31_BUILTIN = [
    msg("user", "Search the web for swift jinja"),
    {"role": "assistant", "tool_calls": [{"function": {"name": "brave_search", "arguments": {"query": "swift jinja", "count": "3"}}}]},
    {"role": "tool", "content": "results..."},
]


def model_context(messages, add_generation_prompt, bos, eos, **extra):
    ctx = {"messages": messages, "tools": None, "documents": None, "add_generation_prompt": add_generation_prompt,
           "bos_token": bos, "eos_token": eos}
    ctx.update(extra)
    return ctx


MODELS = {
    # file name -> (bos, eos)
    "smollm2-instruct.jinja": ("<|im_start|>", "<|im_end|>"),
    "llama-3.1-instruct.jinja": ("<|begin_of_text|>", "<|eot_id|>"),
    "llama-3.2-instruct.jinja": ("<|begin_of_text|>", "<|eot_id|>"),
    "qwen2.5-instruct.jinja": ("", "<|im_end|>"),
    "gemma-3-instruct.jinja": ("<bos>", "<eos>"),
    "extra-namespace.jinja": ("<s>", "</s>"),
    "extra-filters.jinja": ("<s>", "</s>"),
    "extra-macros.jinja": ("<s>", "</s>"),
}


def model_cases():
    cases = []
    for file, (bos, eos) in MODELS.items():
        source = (TEMPLATES / file).read_text(encoding="utf-8")
        for conv_name, conv in list(CONVERSATIONS.items()) + list(ERROR_CONVERSATIONS.items()):
            for agp in (True, False):
                if conv_name in ERROR_CONVERSATIONS and not agp:
                    continue
                ctx = model_context(conv, agp, bos, eos)
                case = {"name": f"{file}/{conv_name}/{'gen' if agp else 'nogen'}", "template": file, "context": ctx,
                        "plain_messages": True}
                case.update(render(source, ctx))
                cases.append(case)
        # An empty conversation (several templates index messages[0] and fail on it).
        ctx = model_context([], True, bos, eos)
        case = {"name": f"{file}/no_messages", "template": file, "context": ctx, "plain_messages": True}
        case.update(render(source, ctx))
        cases.append(case)

    def add(file, name, messages, agp=True, **extra):
        bos, eos = MODELS[file]
        source = (TEMPLATES / file).read_text(encoding="utf-8")
        ctx = model_context(messages, agp, bos, eos, **extra)
        case = {"name": f"{file}/{name}", "template": file, "context": ctx, "plain_messages": False}
        case.update(render(source, ctx))
        cases.append(case)

    for file in ("llama-3.1-instruct.jinja", "llama-3.2-instruct.jinja"):
        add(file, "tools_in_user_message", TOOL_CONVERSATION, tools=[WEATHER_TOOL, CLOCK_TOOL])
        add(file, "tools_in_system", TOOL_CONVERSATION, tools=[WEATHER_TOOL], tools_in_user_message=False)
        add(file, "custom_tools", CONVERSATIONS["user_only"], custom_tools=[CLOCK_TOOL])
        add(file, "date_string", CONVERSATIONS["system_user"], date_string="01 Jan 2025")
        add(file, "tool_dict_content", LLAMA_TOOL_DICT_CONTENT, agp=False)
        add(file, "tools_no_user_message", [msg("system", "only system")], tools=[CLOCK_TOOL])
        add(file, "two_tool_calls", QWEN_MULTI_TOOL)
    add("llama-3.1-instruct.jinja", "builtin_tools", LLAMA31_BUILTIN,
        builtin_tools=["brave_search", "wolfram_alpha", "code_interpreter"])
    add("llama-3.1-instruct.jinja", "builtin_tools_with_tools", CONVERSATIONS["system_user"],
        builtin_tools=["code_interpreter"], tools=[WEATHER_TOOL], tools_in_user_message=False)
    add("qwen2.5-instruct.jinja", "tools", TOOL_CONVERSATION, tools=[WEATHER_TOOL, CLOCK_TOOL])
    add("qwen2.5-instruct.jinja", "tools_no_system", QWEN_MULTI_TOOL, tools=[CLOCK_TOOL])
    add("qwen2.5-instruct.jinja", "tool_calls_no_tools", QWEN_MULTI_TOOL)
    add("gemma-3-instruct.jinja", "list_content", [
        {"role": "system", "content": [{"type": "text", "text": "  Be terse.  "}]},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": " Describe this. "}]},
        {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]},
    ])
    add("gemma-3-instruct.jinja", "invalid_content_type", [{"role": "user", "content": 42}])
    add("gemma-3-instruct.jinja", "none_content", [{"role": "user", "content": None}])
    return cases


# ---------------------------------------------------------------------------------------------- feature cases

M2 = [msg("system", "S"), msg("user", "Hello world"), msg("assistant", "Hi"), msg("user", "Bye")]

FEATURES = [
    # name, source, context
    # --- output, literals, whitespace
    ("text_only", "plain text\n", {}),
    ("trailing_newlines", "a\n\n", {}),
    ("crlf", "a\r\nb\r\n{% if true %}\r\nc\r\n{% endif %}\r\n", {}),
    ("literals", "{{ 1 }} {{ -2 }} {{ 3.5 }} {{ 1e3 }} {{ 2.50 }} {{ 'a' 'b' }} {{ \"q\" }} {{ true }} {{ False }} {{ none }} {{ None }}", {}),
    ("int_float_print", "{{ 7 / 2 }} {{ 6 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 1.0 * 3 }} {{ 0.1 + 0.2 }} {{ 1e16 }} {{ 9.1e15 }} {{ 1e-5 }} {{ 0.0001 }} {{ -0.0 }} {{ 10 / 4 * 2 }}", {}),
    ("int_literals", "{{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1_0.5 }}", {}),
    ("string_escapes", r"""{{ 'tab\there' }}|{{ "nl\nx" }}|{{ 'q\'s' }}|{{ "d\"q" }}|{{ 'back\\slash' }}|{{ '\x41\u00e9\U0001F600' }}|{{ '\d unknown' }}|{{ '\101' }}""", {}),
    ("lists_dicts_print", "{{ [1, 'a', none, true, 1.5, [2], {'k': 'v'}] }} {{ {'a': 1, 'b': [1, 2]} }} {{ [] }} {{ {} }} {{ ['it\\'s', 'say \"hi\"', 'a\\nb'] }}", {}),
    ("tuple_expr", "{% set t = (1, 2) %}{{ t[0] }}{{ t | length }}{% for a, b in [(1, 2), (3, 4)] %}{{ a + b }}{% endfor %}", {}),
    ("ws_dash_both", "a  {{- ' b ' -}}  c\n  {%- if true -%}  d  {%- endif -%}  e", {}),
    ("ws_trim_blocks", "{% if true %}\nline1\n{% endif %}\nline2\n{% for i in [1,2] %}\n{{ i }}\n{% endfor %}\nend", {}),
    ("ws_lstrip_blocks", "  {% if true %}\n    x\n  {% endif %}\n    {{ 'y' }}\n\t{# c #}\nz", {}),
    ("ws_plus_disables", "  {%+ if true %}\nA\n  {%- endif +%}\nB", {}),
    ("ws_lstrip_not_mid_line", "x  {% if true %}y{% endif %}  z", {}),
    ("ws_comment_dash", "a\n  {#- comment -#}\n  b {# c #}\nc", {}),
    ("ws_var_no_trim", "{{ 'a' }}\n{{ 'b' }}\n", {}),
    ("ws_unicode_space", "x\u00a0\u3000{%- if true %}y{% endif %}", {}),
    ("raw_block", "{% raw %}{{ x }}{% if %}{% endraw %}|{%- raw -%}  keep  {%- endraw -%}|", {}),
    ("comment_multiline", "a{# multi\nline\ncomment #}b", {}),
    # --- variables and undefined
    ("undefined_prints_empty", "[{{ nope }}][{{ nope | default('d') }}][{{ nope is defined }}][{{ nope | length }}][{{ nope ~ 'x' }}][{{ nope | trim }}]", {}),
    ("undefined_attr_error", "{{ nope.attr }}", {}),
    ("undefined_item_error", "{{ nope['k'] }}", {}),
    ("missing_key_undefined", "[{{ d.missing }}][{{ d['missing'] }}][{{ d.missing is undefined }}]", {"d": {"a": 1}}),
    ("missing_key_chain_error", "{{ d.missing.deeper }}", {"d": {"a": 1}}),
    ("undefined_arith_error", "{{ nope + 1 }}", {}),
    ("undefined_iter_empty", "{% for x in nope %}{{ x }}{% else %}empty{% endfor %}", {}),
    ("undefined_in", "{{ 'a' in nope }}|{{ nope in ['a'] }}|{{ nope == nope }}|{{ nope == none }}|{{ not nope }}", {}),
    ("none_attr_undefined", "[{{ n.x }}][{{ n.x is defined }}]", {"n": None}),
    ("list_index_oob", "[{{ l[5] }}][{{ l[-1] }}][{{ l[-4] }}]", {"l": [1, 2, 3]}),
    ("method_vs_key", "{{ d.items is defined }} {{ d['items'] }} {{ d.keys() | list }}", {"d": {"items": "key value", "k": 1}}),
    # --- if / elif / else, boolean ops
    ("if_elif_else", "{% for x in [0, 1, 2, 3] %}{% if x == 0 %}zero{% elif x == 1 %}one{% elif x is even %}even{% else %}other{% endif %};{% endfor %}", {}),
    ("and_or_values", "{{ 0 or 'b' }}|{{ 'a' and 'b' }}|{{ '' and 'b' }}|{{ none or [] }}|{{ not 0 }}|{{ not 'x' }}|{{ 1 and 2 or 3 }}", {}),
    ("inline_if", "{{ 'yes' if x else 'no' }}|{{ 'a' if false }}|{{ 'p' if x > 1 else 'q' if x > 0 else 'r' }}", {"x": 1}),
    ("comparisons", "{{ 1 < 2 < 3 }}{{ 1 < 3 < 2 }}{{ 'a' < 'b' }}{{ [1, 2] < [1, 3] }}{{ 1 == 1.0 }}{{ 1 == true }}{{ 'a' != 'b' }}{{ 2 >= 2 }}{{ none == none }}{{ [1] == [1] }}{{ {'a': 1} == {'a': 1} }}", {}),
    ("compare_type_error", "{{ 1 < 'a' }}", {}),
    ("in_operator", "{{ 'ell' in 'hello' }}{{ 'x' not in 'hello' }}{{ 2 in [1, 2] }}{{ 'k' in {'k': 1} }}{{ 'v' in {'k': 'v'} }}{{ '' in 'abc' }}", {}),
    ("in_type_error", "{{ 1 in 'abc' }}", {}),
    ("truthiness", "{% for v in [0, 1, '', 'a', [], [0], {}, {'a': 1}, none, 0.0, 0.5] %}{{ 'T' if v else 'F' }}{% endfor %}", {}),
    # --- arithmetic and concatenation
    ("arith", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 10 - 2 - 3 }} {{ 'ab' * 3 }} {{ [1] * 2 }} {{ [1] + [2] }} {{ 'a' + 'b' }} {{ 1 + true }} {{ 1.5 + 1 }}", {}),
    ("concat_tilde", "{{ 'a' ~ 1 ~ none ~ true ~ 1.5 ~ [1] }}", {}),
    ("str_plus_int_error", "{{ 'a' + 1 }}", {}),
    ("div_zero_error", "{{ 1 / 0 }}", {}),
    ("unary_filter_precedence", "{{ -3 | abs }} {{ -x.y }} {{ not x.y }}", {"x": {"y": 2}}),
    ("filter_binds_tighter", "{{ 'a' ~ ' b ' | trim ~ 'c' }}|{{ ' x ' | trim + '!' }}|{{ 3 + [1, 2] | length }}", {}),
    # --- attribute, subscript, slices
    ("attr_and_subscript", "{{ m.role }} {{ m['content'] }} {{ ms[1].role }} {{ ms[-1]['content'] }} {{ ms.1.role }}", {"m": msg("user", "hi"), "ms": M2}),
    ("slices", "{{ s[1:3] }}|{{ s[::-1] }}|{{ s[-2:] }}|{{ s[:-2] }}|{{ s[::2] }}|{{ l[1:] }}|{{ l[::-1] }}|{{ l[5:] }}|{{ l[-10:2] }}|{{ s[4:1:-1] }}|{{ l[:] }}", {"s": "hello", "l": [1, 2, 3, 4]}),
    ("string_index_unicode", "{{ s[0] }}{{ s[-1] }}{{ s | length }}{{ s[1:3] }}", {"s": "é😀日x"}),
    # --- for loops
    ("loop_vars", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}", {}),
    ("loop_prev_next", "{% for x in [1, 2, 3] %}[{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }}]{{ loop.previtem is defined }}{% endfor %}", {}),
    ("loop_else", "{% for x in [] %}{{ x }}{% else %}none{% endfor %}{% for x in [1] %}{{ x }}{% else %}none{% endfor %}", {}),
    ("loop_filter", "{% for m in ms if m.role != 'system' %}{{ loop.index }}/{{ loop.length }}:{{ m.role }};{% endfor %}", {"ms": M2}),
    ("loop_unpack_items", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k, v in d | items %}{{ k }}{% endfor %}{% for k in d %}{{ k }}{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("loop_unpack_error", "{% for a, b in [[1, 2, 3]] %}{% endfor %}", {}),
    ("loop_nested_depth", "{% for a in [1, 2] %}{% for b in 'xy' %}{{ loop.depth }}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}", {}),
    ("loop_cycle_changed", "{% for x in [1, 1, 2, 2, 3] %}{{ loop.cycle('a', 'b', 'c') }}{% if loop.changed(x) %}*{% endif %}{% endfor %}", {}),
    ("loop_break_continue", "{% for x in range(10) %}{% if x is odd %}{% continue %}{% endif %}{% if x > 6 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("loop_scope", "{% set x = 1 %}{% for i in [1, 2] %}[{{ x }}{% set x = i * 10 %}{{ x }}]{% endfor %}{{ x }}|{% for i in [1, 2] %}{{ y }}{% set y = i %}{% endfor %}{{ y }}", {}),
    ("loop_over_string_dict_none", "{% for c in 'hé' %}{{ c }},{% endfor %}{% for k in {'a': 1, 'b': 2} %}{{ k }}{% endfor %}", {}),
    ("loop_over_int_error", "{% for x in 5 %}{% endfor %}", {}),
    ("loop_recursive", "{% for n in tree recursive %}{{ n.name }}{% if n.children %}({{ loop(n.children) }}){% endif %}{% endfor %}", {"tree": [{"name": "a", "children": [{"name": "b", "children": []}, {"name": "c"}]}, {"name": "d"}]}),
    ("range_global", "{{ range(3) | list }}{{ range(1, 4) | list }}{{ range(10, 0, -3) | list }}{{ range(0) | list }}", {}),
    # --- set, namespace
    ("set_basic", "{% set a = 1 %}{% set b, c = [2, 3] %}{% set d = a + b + c %}{{ a }}{{ b }}{{ c }}{{ d }}", {}),
    ("set_in_if_leaks", "{% if true %}{% set v = 'in' %}{% endif %}{{ v }}", {}),
    ("set_block", "{% set blk %}  Hello {{ name }}!  {% endset %}[{{ blk }}]{% set up | upper %}x{{ name }}{% endset %}{{ up }}", {"name": "Bob"}),
    ("namespace", "{% set ns = namespace(count=0, items=[]) %}{% for m in ms %}{% set ns.count = ns.count + 1 %}{% set ns.items = ns.items + [m.role] %}{% endfor %}{{ ns.count }} {{ ns.items }} {{ ns.missing is defined }}", {"ms": M2}),
    ("namespace_from_dict", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{% set ns.a = 5 %}{{ ns.a }}", {}),
    ("set_attr_non_namespace_error", "{% set d = {} %}{% set d.x = 1 %}", {}),
    # --- jinja2's static scoping (idtracking): what a name means depends on assignments anywhere in its frame
    ("scope_root_load_then_set", "{{ a }}{% set a = 1 %}{{ a }}", {"a": 5}),
    ("scope_loop_before_root_set", "{% for i in [1] %}[{{ a }}]{% endfor %}{% set a = 1 %}{{ a }}", {"a": 5}),
    ("scope_loop_local_shadow", "{% for i in [1] %}{{ a }}{% set a = 2 %}{{ a }}{% endfor %}{{ a }}", {"a": 5}),
    ("scope_conditional_set_resolves", "{% for i in [1] %}{{ a }}{% endfor %}{% if false %}{% set a = 1 %}{% endif %}", {"a": 5}),
    ("scope_conditional_set_in_loop", "{% for i in [1, 2] %}{{ a }}{% if i == 1 %}{% set a = 2 %}{% endif %}{{ a }};{% endfor %}", {"a": 5}),
    ("scope_elif_branches", "{% for i in [1, 2, 3] %}{% if i == 1 %}{% set v = 'one' %}{% elif i == 2 %}{% set v = 'two' %}{% else %}{% set v = 'many' %}{% endif %}{{ v }};{% endfor %}[{{ v }}]", {"v": "ctx"}),
    ("scope_macro_sees_later_root_set", "{% macro m() %}[{{ a }}]{% endmacro %}{{ m() }}{% set a = 1 %}{{ m() }}", {"a": 5}),
    ("scope_nested_loop_before_outer_set", "{% for i in [1] %}{% for j in [1] %}[{{ a }}]{% endfor %}{% set a = 2 %}{% endfor %}", {"a": 5}),
    ("scope_set_block_continue", "{% for i in range(3) %}{% set x %}{% if i == 1 %}{% continue %}{% endif %}v{{ i }}{% endset %}{{ x }};{% endfor %}", {}),
    ("scope_loop_filter_frame", "{% set k = 2 %}{% for i in range(5) if i != k %}{{ i }}{% endfor %}", {}),
    # --- macros, call
    ("macro_defaults", "{% macro greet(name, greeting='Hello', punct='!') %}{{ greeting }}, {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bo', 'Hi') }} {{ greet('Cy', punct='?') }}", {}),
    ("macro_varargs_caller", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, k=4) }}{% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}inner{% endcall %}", {}),
    ("filter_block", "{% filter upper %}abc {{ 'def' }}{% endfilter %}{% filter trim | title %}  hello world  {% endfilter %}", {}),
    ("generation_tag", "{% generation %}{% set g = 1 %}gen {{ x }}{% endgeneration %}[{{ g }}]", {"x": "X"}),
    # --- filters
    ("f_trim_upper_lower", "[{{ '  a b  ' | trim }}][{{ 'xxhixx' | trim('x') }}][{{ 'MiXed' | upper }}][{{ 'MiXed' | lower }}][{{ 'straße' | upper }}]", {}),
    ("f_title_capitalize", "{{ 'hello wORLD-foo (bar) x_y it\\'s' | title }}|{{ 'hELLO World' | capitalize }}|{{ '' | title }}", {}),
    ("f_length_count", "{{ 'héllo' | length }} {{ [1, 2] | count }} {{ {'a': 1} | length }} {{ '😀' | length }}", {}),
    ("f_length_error", "{{ 5 | length }}", {}),
    ("f_default", "{{ u | default('d') }}|{{ '' | default('d') }}|{{ '' | default('d', true) }}|{{ none | d('x') }}|{{ none | default('x', boolean=true) }}|{{ 0 | d(5, true) }}", {}),
    ("f_join", "{{ [1, 2, 3] | join }}|{{ ['a', 'b'] | join(', ') }}|{{ ms | join('-', attribute='role') }}|{{ 'abc' | join('.') }}", {"ms": M2}),
    ("f_first_last", "{{ [1, 2, 3] | first }}{{ [1, 2, 3] | last }}{{ 'abc' | first }}{{ 'abc' | last }}[{{ [] | first }}][{{ u | first }}]", {}),
    ("f_tojson_basic", "{{ {'a': 1, 'b': [true, none, 1.5, 'x']} | tojson }}|{{ 'he said \"hi\"\\n' | tojson }}|{{ [] | tojson }}|{{ {} | tojson }}|{{ 3 | tojson }}|{{ 2.0 | tojson }}", {}),
    ("f_tojson_unicode_html", "{{ s | tojson }}|{{ s | tojson(ensure_ascii=true) }}", {"s": "<a href='x'>&amp; café 😀 \u0001 \u007f</a>"}),
    ("f_tojson_indent", "{{ d | tojson(indent=2) }}\n{{ d | tojson(indent=4, sort_keys=true) }}\n{{ d | tojson(separators=(',', ':')) }}\n{{ [[], {}, [1]] | tojson(indent=1) }}", {"d": {"z": 1, "a": {"nested": [1, 2], "e": {}}, "m": "é"}}),
    ("f_tojson_indent_string", "{{ [1, {'a': 2}] | tojson(indent='\t') }}|{{ [1, 2] | tojson(indent=0) }}", {}),
    ("f_tojson_undefined_error", "{{ u | tojson }}", {}),
    ("f_string", "{{ 1 | string }}{{ none | string }}{{ [1, 'a'] | string }}{{ u | string }}|{{ (1 | string) + 'x' }}", {}),
    ("f_int_float", "{{ '42' | int }} {{ '42.7' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ '0x1A' | int(base=16) }} {{ '3.5' | float }} {{ 'abc' | float }} {{ 2 | float }} {{ true | int }} {{ ' 12 ' | int }}", {}),
    ("f_list_items", "{{ 'ab' | list }} {{ {'a': 1} | list }} {{ {'a': 1, 'b': 2} | items | list }} {{ u | items | list }}", {}),
    ("f_selectattr_map", "{{ ms | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }}|{{ ms | rejectattr('role', 'in', ['user', 'system']) | map(attribute='content') | join }}|{{ ms | selectattr('content') | list | length }}|{{ ms | map(attribute='missing', default='?') | join }}", {"ms": M2 + [msg("user", "")]}),
    ("f_map_filter", "{{ ['a', 'B'] | map('upper') | list }} {{ [' x ', 'y '] | map('trim') | join(',') }} {{ ['1', '2'] | map('int') | sum }} {{ [[1], [1, 2]] | map('length') | list }}", {}),
    ("f_select_reject", "{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('even') | list }} {{ [0, 1, '', 'a'] | select | list }} {{ [1, 5, 10] | select('gt', 3) | list }} {{ ['a', 1, none] | reject('string') | list }} {{ [1, 2, 3] | select('in', [2, 3]) | list }}", {}),
    ("f_replace", "{{ 'aaa' | replace('a', 'b') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ 'abc' | replace('', '-') }} {{ 'x<y' | replace('<', '&lt;') }}", {}),
    ("f_safe_escape", "{{ '<b>' | safe }} {{ '<a href=\"x\">\\'&' | escape }} {{ '<i>' | e }}", {}),
    ("f_indent", "{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(width='> ', blank=true) }}|{{ 'x\\r\\ny' | indent(1) }}", {}),
    ("f_round_abs", "{{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 5 | round }} {{ 1.234 | round(1, 'floor') }} {{ 1.21 | round(1, 'ceil') }} {{ -3 | abs }} {{ -2.5 | abs }} {{ 1234.5678 | round(-2) }}", {}),
    ("f_unique_sort", "{{ ['b', 'A', 'a', 'B', 'c'] | unique | list }} {{ ['b', 'A', 'a'] | unique(case_sensitive=true) | list }} {{ [3, 1, 2] | sort }} {{ ['b', 'A', 'c'] | sort }} {{ ['b', 'A', 'c'] | sort(case_sensitive=true) }} {{ [3, 1, 2] | sort(reverse=true) }} {{ ms | sort(attribute='role') | map(attribute='content') | join(',') }}", {"ms": M2}),
    ("f_min_max_sum", "{{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }} {{ ['b', 'A'] | min }} {{ [1, 2.5] | sum }} {{ ms | sum(attribute='n') }} {{ [] | max }}", {"ms": [{"n": 1}, {"n": 4}]}),
    ("f_reverse_dictsort", "{{ 'abc' | reverse }} {{ [1, 2, 3] | reverse | list }} {{ {'b': 1, 'A': 2, 'c': 0} | dictsort }} {{ {'b': 1, 'a': 2} | dictsort(by='value') }}", {}),
    ("f_format_center_wordcount", "{{ '%s-%d' | format('a', 3) }} [{{ 'ab' | center(6) }}] {{ 'one two  three' | wordcount }} {{ '%s' % 'pct' }} {{ '%s and %s' % ('x', 'y') }}", {}),
    ("f_attr_batch", "{{ d | attr('k') }} {{ [1, 2, 3, 4, 5] | batch(2) | list }} {{ [1, 2, 3] | batch(2, 0) | list }}", {"d": {"k": "v"}}),
    ("f_chain", "{{ ms | map(attribute='content') | map('lower') | select('ne', 'hi') | join(' | ') | upper | replace('BYE', 'ciao') }}", {"ms": M2}),
    ("unknown_filter_error", "{% if false %}{{ x | nosuchfilter }}{% endif %}", {}),
    # --- tests
    ("tests_types", "{% for v in [none, true, 1, 1.5, 'a', [1], {'a': 1}] %}{{ v is none }}{{ v is boolean }}{{ v is integer }}{{ v is float }}{{ v is number }}{{ v is string }}{{ v is mapping }}{{ v is iterable }}{{ v is sequence }}|{% endfor %}{{ u is iterable }}{{ u is sequence }}{{ u is string }}", {}),
    ("tests_values", "{{ true is true }}{{ 1 is true }}{{ false is false }}{{ 0 is false }}{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 9 is divisibleby(4) }}{{ 'a' is equalto 'a' }}{{ 2 is eq 2 }}{{ 2 is ne 3 }}{{ 1 is lt 2 }}{{ 3 is ge 3 }}{{ 'x' is in 'xyz' }}{{ 'abc' is lower }}{{ 'ABC' is upper }}{{ none is sameas none }}{{ x is not none }}{{ x is not defined }}", {"x": 1}),
    ("test_callable", "{{ range is callable }}{{ 'a'.upper is callable }}{{ 'a' is callable }}", {}),
    ("unknown_test_error", "{{ 1 is nosuchtest }}", {}),
    # --- methods
    ("str_methods", "{{ ' a b '.strip() }}|{{ 'xxaxx'.lstrip('x') }}|{{ 'xxaxx'.rstrip('x') }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b \\n'.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a b c'.rsplit(' ', 1) }}|{{ 'hello world'.title() }}|{{ 'they\\'re bill\\'s'.title() }}|{{ 'abc'.upper() }}{{ 'ABC'.lower() }}|{{ 'hello'.capitalize() }}", {}),
    ("str_methods_2", "{{ 'hello'.startswith('he') }}{{ 'hello'.endswith(('x', 'lo')) }}{{ 'hello'.replace('l', 'L') }}{{ 'hello'.replace('l', 'L', 1) }}|{{ '-'.join(['a', 'b']) }}|{{ 'hello'.find('l') }}{{ 'hello'.rfind('l') }}{{ 'hello'.count('l') }}{{ 'hello'.find('z') }}|{{ '123'.isdigit() }}{{ 'ab'.isalpha() }}{{ '  '.isspace() }}|{{ 'a\\nb\\r\\nc'.splitlines() }}|{{ '{} and {}'.format(1, 'two') }}|{{ '{0}{1}{0}'.format('a', 'b') }}|{{ '{name}!'.format(name='N') }}", {}),
    ("dict_methods", "{{ d.keys() | list }}{{ d.values() | list }}{{ d.items() | list }}{{ d.get('a') }}{{ d.get('zz') }}{{ d.get('zz', 'def') }}{{ d.get('zz') is none }}", {"d": {"a": 1, "b": [2]}}),
    ("list_methods", "{{ l.index(2) }}{{ l.count(1) }}", {"l": [1, 2, 1]}),
    ("unsafe_method_error", "{{ l.append(4) }}", {"l": [1]}),
    # --- globals
    ("raise_exception", "{% if x %}{{ raise_exception('Bad value: ' ~ x) }}{% endif %}ok", {"x": 3}),
    ("raise_exception_not_hit", "{% if x %}{{ raise_exception('never') }}{% endif %}ok", {"x": 0}),
    ("strftime_now", "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S') }}|{{ strftime_now('%A %B %-d, %I %p %j %y %a %e') }}|{{ strftime_now('%B %d, %Y') }}|{{ strftime_now('%%') }}", {}),
    ("dict_global_joiner", "{{ dict(a=1, b='x') }}{% set j = joiner(' | ') %}{% for x in 'abc' %}{{ j() }}{{ x }}{% endfor %}", {}),
    # --- syntax errors
    ("syntax_unclosed_if", "{% if true %}never closed", {}),
    ("syntax_bad_expression", "line1\n{{ 1 + }}", {}),
    ("syntax_unknown_tag", "{% frobnicate %}", {}),
    ("syntax_unclosed_var", "abc {{ x ", {}),
    ("syntax_endfor_mismatch", "{% if x %}{% endfor %}", {}),
    ("syntax_break_outside_loop", "{% break %}", {}),
    ("syntax_unterminated_string", "{{ 'abc }}", {}),
    ("syntax_unclosed_comment", "{# never closed", {}),
]


def feature_cases():
    cases = []
    names = set()
    for name, source, ctx in FEATURES:
        assert name not in names, name
        names.add(name)
        case = {"name": f"feature/{name}", "source": source, "context": ctx}
        case.update(render(source, ctx))
        cases.append(case)
    return cases


def main():
    cases = model_cases() + feature_cases()
    doc = {
        "generator": "make_expected.py",
        "jinja2_version": jinja2.__version__,
        "fixed_now_utc": FIXED_NOW.isoformat(),
        "fixed_now_unix": int(FIXED_NOW.replace(tzinfo=datetime.timezone.utc).timestamp()),
        "cases": cases,
    }
    out = FIXTURES / "expected.json"
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    errors = sum(1 for c in cases if "error" in c)
    print(f"wrote {out} ({len(cases)} cases, {errors} expected errors)")


if __name__ == "__main__":
    main()
