package storetest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestEveryCheckIsListed parses the package and fails for a check
// function — func testX(t *testing.T, db *sqlstore.DB) — that tests does
// not list, so a check cannot be written and silently never run. It also
// refuses a name or a function listed twice.
func TestEveryCheckIsListed(t *testing.T) {
	listed := map[string]string{} // function name -> check name
	names := map[string]bool{}
	for _, tc := range tests {
		fn := runtime.FuncForPC(reflect.ValueOf(tc.fn).Pointer()).Name()
		fn = fn[strings.LastIndex(fn, ".")+1:]
		if prev, ok := listed[fn]; ok {
			t.Errorf("%s is listed twice, as %s and %s", fn, prev, tc.name)
		}
		if names[tc.name] {
			t.Errorf("two checks are named %s", tc.name)
		}
		listed[fn], names[tc.name] = tc.name, true
	}

	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var found []string
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || !strings.HasPrefix(fd.Name.Name, "test") || !isCheck(fd.Type) {
				continue
			}
			found = append(found, fd.Name.Name)
			if _, ok := listed[fd.Name.Name]; !ok {
				t.Errorf("%s: %s is a check but is not listed in tests (storetest.go)", fset.Position(fd.Pos()), fd.Name.Name)
			}
		}
	}
	if len(found) == 0 {
		t.Fatal("found no check functions: the parser or the signature match is broken")
	}
	for fn := range listed {
		if !slices.Contains(found, fn) {
			t.Errorf("tests lists %s, which is not a check function of this package", fn)
		}
	}
}

// isCheck reports whether a function type is (t *testing.T, db *sqlstore.DB)
// with no results.
func isCheck(ft *ast.FuncType) bool {
	if ft.Results != nil && len(ft.Results.List) > 0 {
		return false
	}
	var params []string
	for _, p := range ft.Params.List {
		n := max(len(p.Names), 1)
		for range n {
			params = append(params, typeString(p.Type))
		}
	}
	return slices.Equal(params, []string{"*testing.T", "*sqlstore.DB"})
}

// typeString renders a parameter type such as *testing.T.
func typeString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return "*" + typeString(e.X)
	case *ast.SelectorExpr:
		return typeString(e.X) + "." + e.Sel.Name
	case *ast.Ident:
		return e.Name
	}
	return "?"
}
