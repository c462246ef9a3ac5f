package wasendtest_test

import (
	"go/build"
	"strings"
	"testing"
)

// TestImportsOnlyStdlibAndRoot keeps the test kit and the browser suite
// importable by anyone: their non-test files import only the standard
// library and package wasend.
func TestImportsOnlyStdlibAndRoot(t *testing.T) {
	for _, dir := range []string{".", "../browsertest"} {
		pkg, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		for _, imp := range pkg.Imports {
			first, _, _ := strings.Cut(imp, "/")
			if imp != "github.com/wasend/wasend" && strings.Contains(first, ".") {
				t.Errorf("%s imports %s; want only the standard library and github.com/wasend/wasend", pkg.Name, imp)
			}
		}
	}
}
