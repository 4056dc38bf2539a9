// Command gosrc type-checks Go package directories with go/types and prints, as one JSON line per
// directory, the map operations and the other allocating expressions of every line, with the maps'
// types resolved.
//
// mapscope builds it once per toolchain and runs it with that toolchain's GOROOT; imports are read
// from source (GOROOT packages, the "cmd" module, and the packages of the directory's own module).
//
// Each map type is given twice: as Go prints it relative to the package (for people) and as a
// layout spelling whose every named type is declared in the output's "declarations" (for mapscope's
// type parser): types from other packages, generic instances and function-local types get
// identifier names, interfaces keep only their method names and funcs become `func()`, since the
// layout of neither depends on the signatures.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/build"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"unicode"
)

type op struct {
	Kind      string `json:"kind"`
	Line      int    `json:"line"`
	End       int    `json:"end"`
	Column    int    `json:"column"`
	Text      string `json:"text"`
	Type      string `json:"type"`
	MapType   string `json:"map_type,omitempty"`
	Hint      *int64 `json:"hint,omitempty"`
	HintKnown bool   `json:"hint_known"`
	KeyType   string `json:"key_type,omitempty"`
	ValueType string `json:"value_type,omitempty"`
	MadeAt    int    `json:"made_at,omitempty"`
	KeySize   int64  `json:"key_size"`
	ElemSize  int64  `json:"elem_size"`
	// Instances are the layout spellings of a map type written with type parameters, one for each
	// instantiation of the enclosing generic function or type within the package.
	Instances []string `json:"instances,omitempty"`
}

type alloc struct {
	Kind   string `json:"kind"`
	Line   int    `json:"line"`
	End    int    `json:"end"`
	Column int    `json:"column"`
	Text   string `json:"text"`
	Type   string `json:"type,omitempty"`
	// IntoMap marks a value boxed because it is stored as an interface-typed map key or value.
	IntoMap bool `json:"into_map,omitempty"`
}

type fileOut struct {
	Path   string  `json:"path"`
	Ops    []op    `json:"ops"`
	Allocs []alloc `json:"allocs"`
}

type output struct {
	Directory    string    `json:"directory"`
	Error        string    `json:"error,omitempty"`
	Package      string    `json:"package"`
	Go           string    `json:"go"`
	Errors       []string  `json:"errors"`
	ErrorCount   int       `json:"error_count"`
	Declarations string    `json:"declarations"`
	Files        []fileOut `json:"files"`
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(2)
}

func main() {
	flag.Parse()
	if flag.NArg() == 0 {
		fail("usage: gosrc DIR...")
	}
	fset := token.NewFileSet()
	// One importer for every directory: packages they share are read and checked once.
	imp := importer.ForCompiler(fset, "source", nil)
	enc := json.NewEncoder(os.Stdout)
	for _, arg := range flag.Args() {
		if err := enc.Encode(check(arg, fset, imp)); err != nil {
			fail("%v", err)
		}
	}
}

// check type-checks the package in one directory; a problem that stops it is the output's Error.
func check(arg string, fset *token.FileSet, imp types.Importer) (out output) {
	out = output{Directory: arg, Go: runtime.Version(), Errors: []string{}, Files: []fileOut{}}
	dir, err := filepath.Abs(arg)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	// go/build finds the module of an import from the working directory, not the importing one.
	if err := os.Chdir(dir); err != nil {
		out.Error = err.Error()
		return out
	}
	pkg, err := build.ImportDir(dir, 0)
	if err != nil {
		out.Error = strings.Join(strings.Fields(err.Error()), " ")
		return out
	}
	var files []*ast.File
	for _, name := range append(append([]string{}, pkg.GoFiles...), pkg.CgoFiles...) {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			out.Error = firstLine(err.Error())
			return out
		}
		files = append(files, f)
	}
	out.Package = pkg.ImportPath
	conf := types.Config{
		Importer:                 imp,
		FakeImportC:              true,
		DisableUnusedImportCheck: true,
		Error: func(err error) {
			out.ErrorCount++
			if len(out.Errors) < 5 {
				out.Errors = append(out.Errors, firstLine(err.Error()))
			}
		},
	}
	info := &types.Info{
		Types:      map[ast.Expr]types.TypeAndValue{},
		Defs:       map[*ast.Ident]types.Object{},
		Uses:       map[*ast.Ident]types.Object{},
		Instances:  map[*ast.Ident]types.Instance{},
		Selections: map[*ast.SelectorExpr]*types.Selection{},
	}
	path := pkg.ImportPath
	if path == "." || path == "" {
		path = "main"
	}
	checked, _ := conf.Check(path, fset, files, info)
	l := &layouts{fset: fset, pkg: checked, names: map[string]string{}, used: map[string]bool{}}
	if checked != nil {
		for _, name := range checked.Scope().Names() {
			if _, ok := checked.Scope().Lookup(name).(*types.TypeName); ok {
				l.used[name] = true
			}
		}
	}
	for _, f := range files {
		w := &walker{fset: fset, info: info, pkg: checked, layouts: l, made: map[types.Object]int{}, ops: []op{}, allocs: []alloc{}}
		name := fset.File(f.Pos()).Name()
		w.src, _ = os.ReadFile(name)
		func() {
			defer func() {
				if r := recover(); r != nil { // a bug here must not lose the other files
					out.ErrorCount++
					out.Errors = append(out.Errors, fmt.Sprintf("%s: internal error: %v", name, r))
				}
			}()
			w.file(f)
		}()
		out.Files = append(out.Files, fileOut{Path: name, Ops: w.ops, Allocs: w.allocs})
	}
	out.Declarations = l.declarations()
	return out
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// layouts spells types for mapscope's parser and collects the declarations of the names it uses.
type layouts struct {
	fset  *token.FileSet
	pkg   *types.Package
	names map[string]string // full type string of a named type -> its declared name
	used  map[string]bool
	decls []string
}

var sizes = types.SizesFor("gc", "amd64")

// spell returns the layout spelling of t, or ok=false when t has no layout here (a type parameter,
// an invalid type).
func (l *layouts) spell(t types.Type) (string, bool) {
	switch t := types.Unalias(t).(type) {
	case *types.Basic:
		switch {
		case t.Kind() == types.UnsafePointer:
			return "unsafe.Pointer", true
		case t.Kind() == types.Invalid || t.Kind() == types.UntypedNil:
			return "", false
		case t.Info()&types.IsUntyped != 0:
			return l.spell(types.Default(t))
		}
		return t.Name(), true
	case *types.Named:
		return l.named(t)
	case *types.Pointer:
		s, ok := l.spell(t.Elem())
		return "*" + s, ok
	case *types.Slice:
		s, ok := l.spell(t.Elem())
		return "[]" + s, ok
	case *types.Array:
		s, ok := l.spell(t.Elem())
		return fmt.Sprintf("[%d]%s", t.Len(), s), ok
	case *types.Map:
		k, ok1 := l.spell(t.Key())
		v, ok2 := l.spell(t.Elem())
		return "map[" + k + "]" + v, ok1 && ok2
	case *types.Chan:
		s, ok := l.spell(t.Elem())
		if inner, isChan := types.Unalias(t.Elem()).(*types.Chan); isChan && inner.Dir() == types.RecvOnly {
			s = "(" + s + ")"
		}
		return map[types.ChanDir]string{types.SendRecv: "chan ", types.SendOnly: "chan<- ", types.RecvOnly: "<-chan "}[t.Dir()] + s, ok
	case *types.Signature:
		return "func()", true
	case *types.Struct:
		if t.NumFields() == 0 {
			return "struct {}", true
		}
		parts := make([]string, t.NumFields())
		all := true
		for i := range t.NumFields() {
			s, ok := l.spell(t.Field(i).Type())
			all = all && ok
			parts[i] = t.Field(i).Name() + " " + s
		}
		return "struct { " + strings.Join(parts, "; ") + " }", all
	case *types.Interface:
		return interfaceSpelling(t), true
	}
	return "", false
}

func interfaceSpelling(t *types.Interface) string {
	if t.NumMethods() == 0 {
		return "interface{}"
	}
	methods := make([]string, t.NumMethods())
	for i := range t.NumMethods() {
		methods[i] = t.Method(i).Name() + "()"
	}
	return "interface { " + strings.Join(methods, "; ") + " }"
}

func (l *layouts) named(t *types.Named) (string, bool) {
	obj := t.Obj()
	if obj.Pkg() == nil {
		if obj.Name() == "error" {
			return "error", true
		}
		return "", false
	}
	full := types.TypeString(t, nil)
	if name, ok := l.names[full]; ok {
		return name, name != ""
	}
	local := obj.Parent() != obj.Pkg().Scope()
	name := obj.Name()
	if obj.Pkg() != l.pkg || local || t.TypeArgs().Len() > 0 || types.Universe.Lookup(name) != nil {
		base := obj.Name()
		if obj.Pkg() != l.pkg || types.Universe.Lookup(name) != nil { // never shadow int, error, ...
			base = obj.Pkg().Name() + "_" + base
		}
		if t.TypeArgs().Len() > 0 {
			for i := range t.TypeArgs().Len() {
				if !l.resolvable(t.TypeArgs().At(i)) {
					l.names[full] = ""
					return "", false
				}
				base += "_" + types.TypeString(t.TypeArgs().At(i), func(p *types.Package) string { return p.Name() })
			}
		}
		if local {
			base += fmt.Sprintf("_L%d", l.line(obj))
		}
		name = l.unique(identifier(base))
	}
	l.names[full] = name
	var body string
	ok := true
	if iface, isIface := t.Underlying().(*types.Interface); isIface {
		body = interfaceSpelling(iface)
	} else {
		body, ok = l.spell(t.Underlying())
	}
	if !ok {
		l.names[full] = ""
		return "", false
	}
	l.decls = append(l.decls, "type "+name+" "+body)
	return name, true
}

// resolvable reports whether a type argument contains no type parameter.
func (l *layouts) resolvable(t types.Type) bool {
	switch t := types.Unalias(t).(type) {
	case *types.TypeParam:
		return false
	case *types.Named:
		for i := range t.TypeArgs().Len() {
			if !l.resolvable(t.TypeArgs().At(i)) {
				return false
			}
		}
		return true
	case *types.Pointer:
		return l.resolvable(t.Elem())
	case *types.Slice:
		return l.resolvable(t.Elem())
	case *types.Array:
		return l.resolvable(t.Elem())
	case *types.Chan:
		return l.resolvable(t.Elem())
	case *types.Map:
		return l.resolvable(t.Key()) && l.resolvable(t.Elem())
	case *types.Struct:
		for i := range t.NumFields() {
			if !l.resolvable(t.Field(i).Type()) {
				return false
			}
		}
	}
	return true
}

func (l *layouts) line(obj types.Object) int { return l.fset.Position(obj.Pos()).Line }

func identifier(s string) string {
	var b strings.Builder
	under := false
	for _, r := range s {
		if r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') || r > 127 && unicode.IsLetter(r) {
			b.WriteRune(r)
			under = r == '_'
		} else if !under {
			b.WriteByte('_')
			under = true
		}
	}
	return strings.TrimRight(b.String(), "_")
}

func (l *layouts) unique(base string) string {
	name := base
	for i := 2; l.used[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	l.used[name] = true
	return name
}

func (l *layouts) declarations() string {
	sort.Strings(l.decls)
	return strings.Join(l.decls, "\n")
}

// walker finds the map operations and other allocating expressions of one file.
type walker struct {
	fset    *token.FileSet
	info    *types.Info
	pkg     *types.Package
	layouts *layouts
	src     []byte
	ops     []op
	allocs  []alloc
	made    map[types.Object]int // local map variables -> line of the make or literal declaring them
	results []*types.Tuple       // result types of the enclosing functions, innermost last
	generic []genericScope       // type parameters of the enclosing declaration, when generic
}

// genericScope pairs the type parameters a body sees with those its instantiations are recorded
// against: the same for a function, the type's own for a method's receiver parameters.
type genericScope struct{ inScope, declared *types.TypeParamList }

func (w *walker) file(f *ast.File) {
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for i, lhs := range n.Lhs {
				if i < len(n.Rhs) && len(n.Lhs) == len(n.Rhs) {
					w.remember(lhs, n.Rhs[i])
				}
			}
		case *ast.ValueSpec:
			for i, name := range n.Names {
				if i < len(n.Values) && len(n.Names) == len(n.Values) {
					w.remember(name, n.Values[i])
				}
			}
		}
		return true
	})
	w.visit(f)
}

func (w *walker) remember(lhs, rhs ast.Expr) {
	id, ok := lhs.(*ast.Ident)
	if !ok || !w.createsMap(rhs) {
		return
	}
	obj := w.info.Defs[id] // where the variable is declared: later assignments may not run
	if obj != nil && obj.Parent() != nil && obj.Parent() != w.pkg.Scope() {
		if _, seen := w.made[obj]; !seen {
			w.made[obj] = w.line(rhs.Pos())
		}
	}
}

func (w *walker) createsMap(e ast.Expr) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.CompositeLit:
		return w.isMap(w.typeOf(e))
	case *ast.CallExpr:
		return w.builtin(e.Fun) == "make" && w.isMap(w.typeOf(e))
	}
	return false
}

func (w *walker) line(p token.Pos) int { return w.fset.Position(p).Line }

func (w *walker) typeOf(e ast.Expr) types.Type {
	if tv, ok := w.info.Types[e]; ok {
		return tv.Type
	}
	if id, ok := e.(*ast.Ident); ok {
		if obj := w.info.Uses[id]; obj != nil {
			return obj.Type()
		}
		if obj := w.info.Defs[id]; obj != nil {
			return obj.Type()
		}
	}
	return nil
}

func (w *walker) isMap(t types.Type) bool {
	if t == nil {
		return false
	}
	_, ok := coreType(t).(*types.Map)
	return ok
}

// coreType is the underlying type, or for a type parameter the single underlying type of its
// constraint's terms (so `m[k]` on an `M ~map[K]V` is a map operation).
func coreType(t types.Type) types.Type {
	if t == nil {
		return nil
	}
	if tp, ok := types.Unalias(t).(*types.TypeParam); ok {
		iface, _ := tp.Constraint().Underlying().(*types.Interface)
		if iface == nil {
			return nil
		}
		var found types.Type
		for i := range iface.NumEmbeddeds() {
			if u, ok := iface.EmbeddedType(i).(*types.Union); ok && u.Len() == 1 {
				found = u.Term(0).Type().Underlying()
			} else if !ok {
				found = iface.EmbeddedType(i).Underlying()
			}
		}
		return found
	}
	return t.Underlying()
}

func (w *walker) builtin(fun ast.Expr) string {
	id, ok := ast.Unparen(fun).(*ast.Ident)
	if !ok {
		return ""
	}
	if b, ok := w.info.Uses[id].(*types.Builtin); ok {
		return b.Name()
	}
	return ""
}

func (w *walker) text(n ast.Node) string {
	start, end := w.fset.Position(n.Pos()).Offset, w.fset.Position(n.End()).Offset
	if start < 0 || end > len(w.src) || start > end {
		return ""
	}
	text := strings.Join(strings.Fields(string(w.src[start:end])), " ")
	if r := []rune(text); len(r) > 80 {
		text = string(r[:79]) + "…"
	}
	return text
}

func (w *walker) qualified(t types.Type) string {
	if t == nil {
		return ""
	}
	return types.TypeString(t, func(p *types.Package) string {
		if p == w.pkg {
			return ""
		}
		return p.Name()
	})
}

func (w *walker) addOp(kind string, n ast.Node, mapType types.Type) *op {
	pos := w.position(n)
	o := op{Kind: kind, Line: pos.Line, End: w.line(n.End()), Column: pos.Column, Text: w.text(n), HintKnown: true}
	if mapType != nil {
		o.Type = w.qualified(mapType)
		if spelled, ok := w.layouts.spell(mapType); ok {
			if m, isMap := coreType(mapType).(*types.Map); isMap {
				if spelled, ok = w.layouts.spell(m); ok {
					o.MapType = spelled
					o.KeySize = sizes.Sizeof(m.Key())
					o.ElemSize = sizes.Sizeof(m.Elem())
				}
			}
		} else if !w.layouts.resolvable(mapType) {
			w.instantiate(&o, mapType)
		}
	}
	w.ops = append(w.ops, o)
	return &w.ops[len(w.ops)-1]
}

// position is where the compiler places an expression in its diagnostics (and escape analysis
// reports): a call at its parenthesis, a composite literal at its brace, an operation at its operator.
func (w *walker) position(n ast.Node) token.Position {
	switch n := n.(type) {
	case *ast.CallExpr:
		return w.fset.Position(n.Lparen)
	case *ast.CompositeLit:
		return w.fset.Position(n.Lbrace)
	case *ast.BinaryExpr:
		return w.fset.Position(n.OpPos)
	case *ast.AssignStmt:
		return w.fset.Position(n.TokPos)
	}
	return w.fset.Position(n.Pos())
}

func (w *walker) addAlloc(kind string, n ast.Node, t types.Type) {
	pos := w.position(n)
	w.allocs = append(w.allocs, alloc{Kind: kind, Line: pos.Line, End: w.line(n.End()), Column: pos.Column, Text: w.text(n), Type: w.qualified(t)})
}

func (w *walker) valueType(e ast.Expr) string {
	t := w.typeOf(e)
	if t == nil {
		return ""
	}
	s, _ := w.layouts.spell(t)
	return s
}

func (w *walker) madeAt(e ast.Expr) int {
	if id, ok := ast.Unparen(e).(*ast.Ident); ok {
		return w.made[w.info.Uses[id]]
	}
	return 0
}

func (w *walker) visit(root ast.Node) {
	ast.Inspect(root, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			if n.Body != nil {
				w.generic = w.generic[:0]
				if fn, ok := w.info.Defs[n.Name].(*types.Func); ok {
					sig := fn.Type().(*types.Signature)
					if sig.TypeParams().Len() > 0 {
						w.generic = append(w.generic, genericScope{sig.TypeParams(), sig.TypeParams()})
					}
					if sig.RecvTypeParams().Len() > 0 {
						recv := sig.Recv().Type()
						if p, ok := recv.(*types.Pointer); ok {
							recv = p.Elem()
						}
						if named, ok := types.Unalias(recv).(*types.Named); ok {
							w.generic = append(w.generic, genericScope{sig.RecvTypeParams(), named.Origin().TypeParams()})
						}
					}
				}
				w.function(n.Type, n.Body)
				w.generic = w.generic[:0]
			}
			return false
		case *ast.FuncLit:
			w.addAlloc("closure", n, w.typeOf(n))
			w.function(n.Type, n.Body)
			return false
		case *ast.AssignStmt:
			w.assign(n)
			return false
		case *ast.IncDecStmt:
			if ix, ok := ast.Unparen(n.X).(*ast.IndexExpr); ok && w.isMap(w.typeOf(ix.X)) {
				o := w.addOp("assign", n, w.typeOf(ix.X))
				o.KeyType = w.valueType(ix.Index)
				o.MadeAt = w.madeAt(ix.X)
				w.visit(ix.X)
				w.visit(ix.Index)
				return false
			}
		case *ast.IndexExpr:
			if w.isMap(w.typeOf(n.X)) {
				w.addOp("lookup", n, w.typeOf(n.X))
			}
		case *ast.RangeStmt:
			if w.isMap(w.typeOf(n.X)) {
				w.addOp("range", rangeHead{n}, w.typeOf(n.X))
			}
		case *ast.CompositeLit:
			w.literal(n)
		case *ast.CallExpr:
			w.call(n)
		case *ast.BinaryExpr:
			if n.Op == token.ADD && w.isString(n) && w.info.Types[n].Value == nil {
				w.addAlloc("concat", n, w.typeOf(n))
			}
		case *ast.UnaryExpr:
			if n.Op == token.AND {
				if lit, ok := ast.Unparen(n.X).(*ast.CompositeLit); ok {
					w.addAlloc("new", n, w.typeOf(n))
					w.literalElements(lit)
					for _, elt := range lit.Elts {
						w.visit(elt)
					}
					return false
				}
			}
		case *ast.ReturnStmt:
			if len(w.results) > 0 {
				res := w.results[len(w.results)-1]
				if res != nil && res.Len() == len(n.Results) {
					for i, e := range n.Results {
						w.boxed(e, res.At(i).Type())
					}
				}
			}
		case *ast.ValueSpec:
			if n.Type != nil {
				for _, v := range n.Values {
					w.boxed(v, w.typeOf(n.Type))
				}
			}
		case *ast.SendStmt:
			if ch, ok := coreType(w.typeOf(n.Chan)).(*types.Chan); ok {
				w.boxed(n.Value, ch.Elem())
			}
		}
		return true
	})
}

// rangeHead is the `for k, v := range m` part of a range statement, without its body.
type rangeHead struct{ *ast.RangeStmt }

func (r rangeHead) End() token.Pos { return r.X.End() }

func (w *walker) function(ft *ast.FuncType, body *ast.BlockStmt) {
	var results *types.Tuple
	if sig, ok := w.typeOf(ft).(*types.Signature); ok {
		results = sig.Results()
	}
	w.results = append(w.results, results)
	w.visit(body)
	w.results = w.results[:len(w.results)-1]
}

func (w *walker) isString(e ast.Expr) bool {
	t := w.typeOf(e)
	if t == nil {
		return false
	}
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsString != 0
}

func (w *walker) isInterface(t types.Type) bool {
	return t != nil && types.IsInterface(t)
}

// boxed notes a non-interface value converted implicitly to an interface type, where that may
// allocate (escape analysis decides whether it does).
func (w *walker) boxed(e ast.Expr, target types.Type) {
	if !w.isInterface(target) {
		return
	}
	if _, isParam := types.Unalias(target).(*types.TypeParam); isParam {
		return
	}
	tv, ok := w.info.Types[e]
	if !ok || tv.Type == nil || tv.IsNil() || w.isInterface(tv.Type) || tv.Value != nil {
		return // constants are boxed into static data
	}
	if _, isParam := types.Unalias(tv.Type).(*types.TypeParam); isParam || direct(tv.Type) || sizes.Sizeof(tv.Type) == 0 {
		return // the interface holds the pointer itself, or points at the zero-size base
	}
	if b, ok := soleComponent(tv.Type).Underlying().(*types.Basic); ok && (b.Info()&types.IsBoolean != 0 || b.Info()&types.IsInteger != 0 && sizes.Sizeof(b) == 1) {
		return // bools and bytes point into the runtime's staticuint64s
	}
	w.addAlloc("box", e, tv.Type)
}

// soleComponent is the one non-struct, non-array value inside t (or t itself), as the compiler sees it.
func soleComponent(t types.Type) types.Type {
	switch u := t.Underlying().(type) {
	case *types.Struct:
		if u.NumFields() == 1 {
			return soleComponent(u.Field(0).Type())
		}
	case *types.Array:
		if u.Len() == 1 {
			return soleComponent(u.Elem())
		}
	}
	return t
}

// direct reports whether values of t are stored in an interface as they are (pointer-shaped types).
func direct(t types.Type) bool {
	switch u := t.Underlying().(type) {
	case *types.Pointer, *types.Chan, *types.Map, *types.Signature:
		return true
	case *types.Basic:
		return u.Kind() == types.UnsafePointer
	case *types.Struct:
		return u.NumFields() == 1 && direct(u.Field(0).Type())
	case *types.Array:
		return u.Len() == 1 && direct(u.Elem())
	}
	return false
}

func (w *walker) intoMap(e ast.Expr, target types.Type) {
	before := len(w.allocs)
	w.boxed(e, target)
	if len(w.allocs) > before {
		w.allocs[before].IntoMap = true
	}
}

func (w *walker) literal(n *ast.CompositeLit) {
	t := w.typeOf(n)
	if w.isMap(t) {
		o := w.addOp("literal", n, t)
		count := int64(len(n.Elts))
		o.Hint = &count
	} else if t != nil {
		switch t.Underlying().(type) {
		case *types.Slice:
			w.addAlloc("slice", n, t)
		}
	}
	w.literalElements(n)
}

// literalElements notes the values boxed into interface-typed elements, keys or fields.
func (w *walker) literalElements(n *ast.CompositeLit) {
	t := w.typeOf(n)
	if t == nil {
		return
	}
	switch u := coreType(t).(type) {
	case *types.Map:
		for _, elt := range n.Elts {
			if kv, ok := elt.(*ast.KeyValueExpr); ok {
				w.intoMap(kv.Key, u.Key())
				w.intoMap(kv.Value, u.Elem())
			}
		}
	case *types.Slice:
		w.elements(n, u.Elem())
	case *types.Array:
		w.elements(n, u.Elem())
	case *types.Struct:
		for i, elt := range n.Elts {
			if kv, ok := elt.(*ast.KeyValueExpr); ok {
				if id, ok := kv.Key.(*ast.Ident); ok {
					if field, ok := w.info.Uses[id].(*types.Var); ok {
						w.boxed(kv.Value, field.Type())
					}
				}
			} else if i < u.NumFields() {
				w.boxed(elt, u.Field(i).Type())
			}
		}
	}
}

func (w *walker) elements(n *ast.CompositeLit, elem types.Type) {
	for _, elt := range n.Elts {
		if kv, ok := elt.(*ast.KeyValueExpr); ok {
			elt = kv.Value
		}
		w.boxed(elt, elem)
	}
}

func (w *walker) assign(n *ast.AssignStmt) {
	plain := n.Tok == token.ASSIGN || n.Tok == token.DEFINE
	for i, lhs := range n.Lhs {
		var value ast.Expr
		if plain && len(n.Lhs) == len(n.Rhs) {
			value = n.Rhs[i]
		}
		if ix, ok := ast.Unparen(lhs).(*ast.IndexExpr); ok && w.isMap(w.typeOf(ix.X)) {
			o := w.addOp("assign", n, w.typeOf(ix.X))
			o.Line = w.line(lhs.Pos())
			o.Column = w.fset.Position(lhs.Pos()).Column
			o.KeyType = w.valueType(ix.Index)
			if value != nil {
				o.ValueType = w.valueType(value)
			} else if n.Tok != token.ASSIGN && n.Tok != token.DEFINE {
				o.ValueType = w.valueType(n.Rhs[0])
			}
			o.MadeAt = w.madeAt(ix.X)
			if m, ok := coreType(w.typeOf(ix.X)).(*types.Map); ok {
				w.intoMap(ix.Index, m.Key())
				if value != nil {
					w.intoMap(value, m.Elem())
				}
			}
			w.visit(ix.X)
			w.visit(ix.Index)
		} else {
			if value != nil && n.Tok == token.ASSIGN {
				w.boxed(value, w.typeOf(lhs))
			}
			w.visit(lhs)
		}
		if n.Tok == token.ADD_ASSIGN && w.isString(lhs) {
			w.addAlloc("concat", n, w.typeOf(lhs))
		}
	}
	for _, rhs := range n.Rhs {
		w.visit(rhs)
	}
}

func (w *walker) call(n *ast.CallExpr) {
	t := w.typeOf(n)
	if tv, ok := w.info.Types[n.Fun]; ok && tv.IsType() {
		// A conversion: to an interface boxes, between strings and byte/rune slices copies.
		if len(n.Args) == 1 {
			w.boxed(n.Args[0], tv.Type)
			if w.isString(n) != w.isString(n.Args[0]) && (w.isString(n) || w.isString(n.Args[0])) {
				if _, isSlice := coreType(t).(*types.Slice); isSlice || w.isString(n) {
					if _, fromInt := coreType(w.typeOf(n.Args[0])).(*types.Basic); !fromInt || w.isString(n.Args[0]) {
						w.addAlloc("convert", n, t)
					}
				}
			}
		}
		return
	}
	switch name := w.builtin(n.Fun); name {
	case "make":
		if w.isMap(t) {
			o := w.addOp("make", n, t)
			if len(n.Args) > 1 {
				if v := w.info.Types[n.Args[1]].Value; v != nil {
					if h, exact := constant.Int64Val(constant.ToInt(v)); exact {
						o.Hint = &h
					} else {
						o.HintKnown = false
					}
				} else {
					o.HintKnown = false
				}
			}
		} else if t != nil {
			kind := "make_slice"
			if _, isChan := coreType(t).(*types.Chan); isChan {
				kind = "make_chan"
			}
			w.addAlloc(kind, n, t)
		}
		return
	case "new":
		w.addAlloc("new", n, t)
		return
	case "append":
		w.addAlloc("append", n, t)
		if s, ok := coreType(t).(*types.Slice); ok && n.Ellipsis == token.NoPos {
			for _, arg := range n.Args[1:] {
				w.boxed(arg, s.Elem())
			}
		}
		return
	case "delete", "clear":
		if len(n.Args) > 0 && w.isMap(w.typeOf(n.Args[0])) {
			w.addOp(name, n, w.typeOf(n.Args[0]))
		}
		return
	case "":
	default:
		return
	}
	fn := w.callee(n.Fun)
	if fn != nil && fn.Pkg() != nil && fn.Pkg().Path() == "maps" && (fn.Name() == "Clone" || fn.Name() == "Copy") && len(n.Args) > 0 {
		kind := "clone"
		if fn.Name() == "Copy" {
			kind = "copy"
		}
		o := w.addOp(kind, n, w.typeOf(n.Args[0]))
		if kind == "copy" {
			o.MadeAt = w.madeAt(n.Args[0])
		}
	} else {
		var mapType types.Type
		if w.isMap(t) {
			mapType = t
		}
		if sel, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr); ok && mapType == nil {
			if s := w.info.Selections[sel]; s != nil && s.Kind() == types.MethodVal && w.isMap(s.Recv()) {
				mapType = s.Recv() // a method of a map type (http.Header.Set) gets the map as receiver
			}
		}
		for _, arg := range n.Args {
			if mapType == nil && w.isMap(w.typeOf(arg)) {
				mapType = w.typeOf(arg)
			}
		}
		if mapType != nil {
			w.addOp("call", n, mapType)
		}
	}
	if fn != nil && fn.Pkg() != nil && fn.Pkg().Path() == "fmt" {
		w.addAlloc("fmt", n, t)
	}
	if sig, ok := coreType(w.typeOf(n.Fun)).(*types.Signature); ok {
		params := sig.Params()
		for i, arg := range n.Args {
			var target types.Type
			switch {
			case sig.Variadic() && i >= params.Len()-1 && n.Ellipsis == token.NoPos:
				if s, ok := params.At(params.Len() - 1).Type().(*types.Slice); ok {
					target = s.Elem()
				}
			case i < params.Len():
				target = params.At(i).Type()
			}
			if target != nil {
				w.boxed(arg, target)
			}
		}
	}
}

func (w *walker) callee(fun ast.Expr) types.Object {
	switch f := ast.Unparen(fun).(type) {
	case *ast.Ident:
		return w.info.Uses[f]
	case *ast.SelectorExpr:
		return w.info.Uses[f.Sel]
	case *ast.IndexExpr:
		return w.callee(f.X)
	case *ast.IndexListExpr:
		return w.callee(f.X)
	}
	return nil
}

// instantiate fills in the instances of a map type written with the type parameters of the enclosing
// generic declaration, from the instantiations the package itself makes; with a single one, that is
// the map's type.
func (w *walker) instantiate(o *op, mapType types.Type) {
	seen := map[string]bool{}
	var sizesOf [2]int64
	for _, scope := range w.generic {
		for _, args := range w.instancesOf(scope.declared) {
			substitution := map[*types.TypeParam]types.Type{}
			for i := range scope.inScope.Len() {
				substitution[scope.inScope.At(i)] = args.At(i)
			}
			m, ok := coreType(subst(mapType, substitution)).(*types.Map)
			if !ok || !w.layouts.resolvable(m) {
				continue
			}
			if spelled, ok := w.layouts.spell(m); ok && !seen[spelled] {
				seen[spelled] = true
				o.Instances = append(o.Instances, spelled)
				sizesOf = [2]int64{sizes.Sizeof(m.Key()), sizes.Sizeof(m.Elem())}
			}
		}
	}
	sort.Strings(o.Instances)
	if len(o.Instances) == 1 {
		o.MapType = o.Instances[0]
		o.KeySize, o.ElemSize = sizesOf[0], sizesOf[1]
	}
}

// instancesOf lists the type arguments the package instantiates a generic function or type with,
// identified by its declared type parameters.
func (w *walker) instancesOf(params *types.TypeParamList) []*types.TypeList {
	var found []*types.TypeList
	for id, instance := range w.info.Instances {
		if instance.TypeArgs.Len() != params.Len() {
			continue
		}
		var declared *types.TypeParamList
		switch t := instance.Type.(type) {
		case *types.Signature:
			if fn, ok := w.info.Uses[id].(*types.Func); ok {
				declared = fn.Origin().Type().(*types.Signature).TypeParams()
			}
		case *types.Named:
			declared = t.Origin().TypeParams()
		}
		if declared == nil || declared.Len() == 0 || declared.At(0) != params.At(0) {
			continue
		}
		found = append(found, instance.TypeArgs)
	}
	return found
}

// subst replaces type parameters in t.
func subst(t types.Type, m map[*types.TypeParam]types.Type) types.Type {
	switch t := types.Unalias(t).(type) {
	case *types.TypeParam:
		if r, ok := m[t]; ok {
			return r
		}
		return t
	case *types.Pointer:
		return types.NewPointer(subst(t.Elem(), m))
	case *types.Slice:
		return types.NewSlice(subst(t.Elem(), m))
	case *types.Array:
		return types.NewArray(subst(t.Elem(), m), t.Len())
	case *types.Map:
		return types.NewMap(subst(t.Key(), m), subst(t.Elem(), m))
	case *types.Chan:
		return types.NewChan(t.Dir(), subst(t.Elem(), m))
	case *types.Struct:
		fields := make([]*types.Var, t.NumFields())
		for i := range t.NumFields() {
			f := t.Field(i)
			fields[i] = types.NewField(f.Pos(), f.Pkg(), f.Name(), subst(f.Type(), m), f.Embedded())
		}
		return types.NewStruct(fields, nil)
	case *types.Named:
		if t.TypeArgs().Len() == 0 {
			return t
		}
		args := make([]types.Type, t.TypeArgs().Len())
		for i := range args {
			args[i] = subst(t.TypeArgs().At(i), m)
		}
		if inst, err := types.Instantiate(nil, t.Origin(), args, false); err == nil {
			return inst
		}
	}
	return t
}
