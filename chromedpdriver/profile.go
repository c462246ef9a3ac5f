package chromedpdriver

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// maxSystemID is the longest system id, the width of browser_system_id.
const maxSystemID = 100

var sessionName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// newSystemID returns "<mode>:<random name>".
func newSystemID(m Mode) string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return m.String() + ":" + hex.EncodeToString(b[:])
}

// parseSystemID splits "persistent:<name>" or "ephemeral:<name>".
func parseSystemID(id string) (Mode, string, error) {
	if len(id) > maxSystemID {
		return 0, "", fmt.Errorf("%w: longer than %d characters", ErrInvalidSystemID, maxSystemID)
	}
	prefix, name, ok := strings.Cut(id, ":")
	if !ok || !sessionName.MatchString(name) || name == "." || name == ".." || strings.Contains(name, "..") {
		return 0, "", fmt.Errorf("%w: %q", ErrInvalidSystemID, id)
	}
	switch prefix {
	case Persistent.String():
		return Persistent, name, nil
	case Ephemeral.String():
		return Ephemeral, name, nil
	}
	return 0, "", fmt.Errorf("%w: %q", ErrInvalidSystemID, id)
}

// openProfiles guards the profile folders opened in this process, across
// pools.
var openProfiles = struct {
	sync.Mutex
	m map[string]bool
}{m: map[string]bool{}}

// claimProfile marks the folder dir as open, or fails with ErrProfileInUse.
func claimProfile(dir string) error {
	openProfiles.Lock()
	defer openProfiles.Unlock()
	if openProfiles.m[dir] {
		return fmt.Errorf("%w: %s is open in this process", ErrProfileInUse, dir)
	}
	openProfiles.m[dir] = true
	return nil
}

func releaseProfile(dir string) {
	openProfiles.Lock()
	delete(openProfiles.m, dir)
	openProfiles.Unlock()
}

// singletonFiles are the files of Chrome's profile lock.
var singletonFiles = []string{"SingletonLock", "SingletonSocket", "SingletonCookie"}

// unlockProfile prepares the profile folder dir for a new Chrome: it fails
// with ErrProfileInUse when a live process holds it, and removes a stale
// SingletonLock (from a Chrome that was killed, or that ran on a host with
// another name, such as an earlier container) when none does.
func unlockProfile(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("chromedpdriver: profile folder: %w", err)
	}
	lock := filepath.Join(dir, "SingletonLock")
	target, err := os.Readlink(lock)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if pids := dirProcesses(dir); len(pids) > 0 {
		return fmt.Errorf("%w: %s is open in process %d", ErrProfileInUse, dir, pids[0])
	}
	if err == nil {
		// The target is "<hostname>-<pid>".
		i := strings.LastIndexByte(target, '-')
		if i > 0 {
			host := target[:i]
			pid, perr := strconv.Atoi(target[i+1:])
			me, _ := os.Hostname()
			if perr == nil && host == me && processAlive(pid) && pid != os.Getpid() {
				return fmt.Errorf("%w: %s is locked by live process %d", ErrProfileInUse, dir, pid)
			}
		}
	}
	for _, f := range singletonFiles {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("chromedpdriver: removing a stale profile lock: %w", err)
		}
	}
	log.Info("removed a stale profile lock", "lock", target)
	return nil
}
