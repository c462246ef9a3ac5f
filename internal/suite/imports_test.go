package suite

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/wasend/wasend"

// suites are the public conformance suites, by directory in the module.
var suites = []string{"storetest", "queuetest", "leasetest", "browsertest"}

// TestImports fails if a suite, or this package, depends on a package that
// is neither in the standard library nor wasend, the suite itself or this
// package.
func TestImports(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the imports: %v", err)
	}
	root := filepath.Join("..", "..")
	pkgs := []string{module + "/internal/suite"}
	for _, dir := range suites {
		if _, err := os.Stat(filepath.Join(root, dir)); err != nil {
			t.Fatalf("suite %s: %v", dir, err)
		}
		pkgs = append(pkgs, module+"/"+dir)
	}
	for _, pkg := range pkgs {
		t.Run(strings.TrimPrefix(pkg, module+"/"), func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(goCmd, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg)
			out, err := cmd.Output()
			if err != nil {
				var stderr []byte
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = ee.Stderr
				}
				t.Fatalf("go list -deps %s: %v\n%s", pkg, err, stderr)
			}
			allowed := map[string]bool{module: true, module + "/internal/suite": true, pkg: true}
			if pkg == module+"/internal/suite" {
				allowed = map[string]bool{pkg: true}
			}
			var bad []string
			for _, dep := range strings.Fields(string(out)) {
				if !allowed[dep] {
					bad = append(bad, dep)
				}
			}
			if len(bad) > 0 {
				t.Fatalf("%s depends on %s; want only the standard library and %s", pkg, strings.Join(bad, ", "), strings.Join(slices.Sorted(maps.Keys(allowed)), ", "))
			}
		})
	}
}
