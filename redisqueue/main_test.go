package redisqueue

import (
	"flag"
	"os"
	"testing"
)

// TestMain raises the default -parallel: the tests mostly wait on Redis and
// timers, and -parallel defaults to GOMAXPROCS (2 on the CI machines), which
// would run them nearly one after the other. An explicit -parallel wins.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", "16")
	}
	os.Exit(m.Run())
}
