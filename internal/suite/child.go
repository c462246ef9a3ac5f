package suite

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// WantFail runs the test named test of the running test binary in a child
// process, with the environment variable env set to value, and fails t
// unless the child fails, in each of the subtests of test named in
// subtests. A suite's own test uses it to show that the suite catches an
// implementation with a bug: it runs the suite on the broken one in the
// child, where test reads env, since a failing suite fails its test.
func WantFail(t *testing.T, test, env, value string, subtests []string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"="+value)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("%s=%s: %s passed, want it to fail; output:\n%s", env, value, test, out)
	}
	if _, ok := err.(*exec.ExitError); !ok {
		t.Fatalf("%s=%s: running %s in a child process: %v", env, value, test, err)
	}
	for _, name := range subtests {
		if !strings.Contains(string(out), "--- FAIL: "+test+"/"+name+" ") {
			t.Errorf("%s=%s: subtest %s of %s did not fail, want it to; output:\n%s", env, value, name, test, out)
		}
	}
}
