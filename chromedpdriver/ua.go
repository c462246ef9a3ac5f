package chromedpdriver

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"time"

	"github.com/chromedp/cdproto/emulation"
)

var (
	// refusedUA matches the User-Agents that WhatsApp Web refuses.
	refusedUA    = regexp.MustCompile(`HeadlessChrome|Electron|QtWebEngine|^WhatsApp/`)
	versionMajor = regexp.MustCompile(`(\d+)\.\d+\.\d+\.\d+`)
	chromeToken  = regexp.MustCompile(`Chrome/(\d+)`)
)

// uaAccepted reports whether WhatsApp Web accepts the User-Agent ua.
func uaAccepted(ua string) bool { return !refusedUA.MatchString(ua) }

// browserMajor runs "<execPath> --version" and returns the major version it
// prints ("Chromium 156.0.8078.108 built on Debian" gives 156).
func browserMajor(execPath string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, execPath, "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("chromedpdriver: %s --version: %w", execPath, err)
	}
	return parseMajor(string(out))
}

func parseMajor(s string) (int, error) {
	m := versionMajor.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("chromedpdriver: no version in %q", s)
	}
	return strconv.Atoi(m[1])
}

// platformUA is what the User-Agent says about a system.
type platformUA struct {
	token    string // in the User-Agent's parentheses
	platform string // navigator.platform
	hint     string // Sec-CH-UA-Platform
	version  string // Sec-CH-UA-Platform-Version
}

func platformFor(goos string) platformUA {
	switch goos {
	case "windows":
		return platformUA{"Windows NT 10.0; Win64; x64", "Win32", "Windows", "15.0.0"}
	case "darwin":
		return platformUA{"Macintosh; Intel Mac OS X 10_15_7", "MacIntel", "macOS", "14.0.0"}
	case "linux":
		return platformUA{"X11; Linux x86_64", "Linux x86_64", "Linux", "6.1.0"}
	}
	// Other systems pass as Windows, the most common desktop.
	return platformFor("windows")
}

// desktopUA returns a desktop Chrome User-Agent for the system goos, with
// the reduced version "major.0.0.0" that Chrome itself sends.
func desktopUA(goos string, major int) string {
	return fmt.Sprintf("Mozilla/5.0 (%s) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36",
		platformFor(goos).token, major)
}

// uaOverride builds the CDP override that makes navigator.userAgent,
// navigator.platform, navigator.userAgentData and the request headers agree
// with ua. The brands never say HeadlessChrome.
func uaOverride(goos, ua string) emulation.SetUserAgentOverrideParams {
	p := platformFor(goos)
	major := strconv.Itoa(DefaultChromeMajor)
	if m := chromeToken.FindStringSubmatch(ua); m != nil {
		major = m[1]
	}
	brands := []*emulation.UserAgentBrandVersion{
		{Brand: "Chromium", Version: major},
		{Brand: "Google Chrome", Version: major},
		{Brand: "Not.A/Brand", Version: "99"},
	}
	full := []*emulation.UserAgentBrandVersion{
		{Brand: "Chromium", Version: major + ".0.0.0"},
		{Brand: "Google Chrome", Version: major + ".0.0.0"},
		{Brand: "Not.A/Brand", Version: "99.0.0.0"},
	}
	return emulation.SetUserAgentOverrideParams{
		UserAgent:      ua,
		AcceptLanguage: "en-US,en;q=0.9",
		Platform:       p.platform,
		UserAgentMetadata: &emulation.UserAgentMetadata{
			Brands:          brands,
			FullVersionList: full,
			Platform:        p.hint,
			PlatformVersion: p.version,
			Architecture:    "x86",
			Bitness:         "64",
		},
	}
}

// goos is the system the User-Agent claims; a variable for tests.
var goos = func() string { return runtime.GOOS }
