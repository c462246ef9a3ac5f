package wasend

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fileGraph type-checks the root package's non-test files and returns, for
// each file, the files whose top-level declarations (types, functions,
// variables, constants, methods and fields) it uses, with one identifier
// that makes each edge. The root imports only the standard library, so the
// "source" importer type-checks it without a build.
func fileGraph(t *testing.T) map[string]map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	info := &types.Info{Uses: make(map[*ast.Ident]types.Object)}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	pkg, err := conf.Check("github.com/wasend/wasend", fset, files, info)
	if err != nil {
		t.Fatal(err)
	}
	graph := make(map[string]map[string]string)
	for _, f := range files {
		graph[fset.File(f.Pos()).Name()] = make(map[string]string)
	}
	for id, obj := range info.Uses {
		if obj.Pkg() != pkg || (obj.Parent() != nil && obj.Parent() != pkg.Scope()) {
			continue // another package's, or a local
		}
		from, to := fset.File(id.Pos()).Name(), fset.File(obj.Pos()).Name()
		if from == to {
			continue
		}
		if _, ok := graph[from][to]; !ok || id.Name < graph[from][to] {
			graph[from][to] = id.Name
		}
	}
	return graph
}

// The root's files form a DAG: no file uses, even through others, what
// uses it. The runtime goes down from run.go and client.go to the
// components, then the live state, then the contracts (see "Package
// layout" in doc.go); a component never calls back into the Client.
func TestRootFilesHaveNoCycle(t *testing.T) {
	graph := fileGraph(t)
	if cycle := findCycle(graph); cycle != nil {
		var b strings.Builder
		for i := 0; i+1 < len(cycle); i++ {
			fmt.Fprintf(&b, "\n\t%s uses %s of %s", cycle[i], graph[cycle[i]][cycle[i+1]], cycle[i+1])
		}
		t.Fatalf("the root files call each other in a circle:%s", b.String())
	}
	if os.Getenv("WASEND_PRINT_LAYOUT") != "" {
		for _, from := range slices.Sorted(maps.Keys(graph)) {
			t.Logf("%s -> %v", from, slices.Sorted(maps.Keys(graph[from])))
		}
	}
}

// findCycle returns a cycle of graph as a path whose last file is its
// first, or nil.
func findCycle(graph map[string]map[string]string) []string {
	const (
		unseen = iota
		open
		done
	)
	state := make(map[string]int)
	var stack []string
	var visit func(string) []string
	visit = func(n string) []string {
		state[n] = open
		stack = append(stack, n)
		for _, m := range slices.Sorted(maps.Keys(graph[n])) {
			switch state[m] {
			case open:
				i := slices.Index(stack, m)
				return append(slices.Clone(stack[i:]), m)
			case unseen:
				if c := visit(m); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		return nil
	}
	for _, n := range slices.Sorted(maps.Keys(graph)) {
		if state[n] == unseen {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}

// findCycle finds a cycle, and only a cycle.
func TestFindCycle(t *testing.T) {
	dag := map[string]map[string]string{"a": {"b": "x", "c": "y"}, "b": {"c": "z"}, "c": {}}
	if c := findCycle(dag); c != nil {
		t.Errorf("findCycle(dag) = %v, want none", c)
	}
	cyclic := map[string]map[string]string{"a": {"b": "x"}, "b": {"c": "y"}, "c": {"a": "z"}, "d": {"a": "w"}}
	c := findCycle(cyclic)
	if len(c) != 4 || c[0] != c[3] {
		t.Errorf("findCycle(cyclic) = %v, want a cycle of a, b and c", c)
	}
}

// The package map in doc.go ("# Package layout") names every file, from the
// top down, and no file uses one listed before it.
func TestPackageLayout(t *testing.T) {
	graph := fileGraph(t)
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(src)
	start := strings.Index(doc, "// # Package layout")
	if start < 0 {
		t.Fatal("doc.go has no # Package layout section")
	}
	section := doc[start+len("// # Package layout"):]
	if end := strings.Index(section, "// # "); end >= 0 {
		section = section[:end]
	}
	order := map[string]int{}
	for _, w := range strings.FieldsFunc(section, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r == '.' || r == '_')
	}) {
		w = strings.TrimRight(w, ".")
		if _, seen := order[w]; strings.HasSuffix(w, ".go") && !seen {
			order[w] = len(order)
		}
	}
	for file := range graph {
		if _, ok := order[file]; !ok && file != "doc.go" {
			t.Errorf("%s is missing from the package layout in doc.go", file)
		}
	}
	for file := range order {
		if _, ok := graph[file]; !ok {
			t.Errorf("the package layout in doc.go names %s, which is not a file of the package", file)
		}
	}
	for _, from := range slices.Sorted(maps.Keys(graph)) {
		for _, to := range slices.Sorted(maps.Keys(graph[from])) {
			if order[to] < order[from] {
				t.Errorf("%s uses %s of %s, which the package layout lists before it", from, graph[from][to], to)
			}
		}
	}
}
