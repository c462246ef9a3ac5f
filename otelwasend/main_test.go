package otelwasend_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them: the
// Observer starts none, and the Clients of the tests are stopped and closed.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
