// Package chromeflags holds the command line that chromedpdriver starts
// Chrome with, so that the benchmarks can start a bare Chrome (their
// memory and latency floor) exactly the same way without a test-only
// export on the driver.
package chromeflags

import "github.com/chromedp/chromedp"

// Flag is one command-line flag. A bool Value is a switch: true gives
// --Name, false omits it (and tells chromedp not to add its default). A
// string Value gives --Name=Value.
type Flag struct {
	Name  string
	Value any
}

// Browser returns the flags of a browser, in order: a headless one or not,
// sending the User-Agent ua, on the profile folder dir ("" for a temporary
// one that chromedp creates and removes), with --no-sandbox only when root
// (the process runs as root, where Chrome refuses to start without it).
// extra come last.
func Browser(headless bool, ua, dir string, root bool, extra ...Flag) []Flag {
	f := []Flag{
		{"no-first-run", true},
		{"no-default-browser-check", true},
		{"headless", headless},
		{"hide-scrollbars", headless},
		{"mute-audio", true},
		{"disable-blink-features", "AutomationControlled"},
		{"disable-dev-shm-usage", true},
		{"disable-background-networking", true},
		{"disable-component-update", true},
		{"disable-sync", true},
		{"disable-gpu", true},
		{"disable-extensions", true},
		{"disable-default-apps", true},
		{"disable-breakpad", true},
		{"disable-client-side-phishing-detection", true},
		{"disable-background-timer-throttling", true},
		{"disable-backgrounding-occluded-windows", true},
		{"disable-renderer-backgrounding", true},
		{"disable-hang-monitor", true},
		{"disable-popup-blocking", true},
		{"disable-prompt-on-repost", true},
		{"disable-features", "Translate,MediaRouter,OptimizationHints"},
		{"metrics-recording-only", true},
		{"safebrowsing-disable-auto-update", true},
		{"password-store", "basic"},
		{"use-mock-keychain", true},
		{"force-color-profile", "srgb"},
		{"lang", "en-US"},
		{"window-size", "1280,900"},
		{"user-agent", ua},
		// chromedp adds --no-sandbox as root unless the flag is set; set it
		// either way, so that it appears only as root.
		{"no-sandbox", root},
		// The default options of chromedp turn this on; it would show that
		// the browser is automated.
		{"enable-automation", false},
	}
	if dir != "" {
		f = append(f, Flag{"user-data-dir", dir})
	}
	return append(f, extra...)
}

// Args renders flags as a command line, for tests and logs.
func Args(flags []Flag) []string {
	var out []string
	for _, f := range flags {
		switch v := f.Value.(type) {
		case bool:
			if v {
				out = append(out, "--"+f.Name)
			}
		case string:
			out = append(out, "--"+f.Name+"="+v)
		}
	}
	return out
}

// Allocator returns chromedp's allocator options for the browser program
// execPath with flags.
func Allocator(execPath string, flags []Flag) []chromedp.ExecAllocatorOption {
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(execPath)}
	for _, f := range flags {
		opts = append(opts, chromedp.Flag(f.Name, f.Value))
	}
	return opts
}
