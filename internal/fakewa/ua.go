package fakewa

import (
	"regexp"
	"strconv"
)

var (
	// rejectedUA matches the User-Agents that the page refuses whatever
	// their version: headless Chrome, Electron and QtWebEngine wrappers, and
	// the "WhatsApp/…" prefix of old bot libraries.
	rejectedUA  = regexp.MustCompile(`HeadlessChrome|Electron|QtWebEngine|^WhatsApp/`)
	chromeMajor = regexp.MustCompile(`Chrome/(\d+)`)
)

// rejectedUAPattern is rejectedUA for the page's JavaScript.
const rejectedUAPattern = `HeadlessChrome|Electron|QtWebEngine|^WhatsApp\/`

// SupportedUserAgent reports whether the page accepts the User-Agent ua with
// the lowest Chrome major version minChrome (0 turns the version check off).
// A User-Agent without a "Chrome/NN" token, such as Firefox's, is accepted.
// The page makes the same decision from navigator.userAgent.
func SupportedUserAgent(ua string, minChrome int) bool {
	if rejectedUA.MatchString(ua) {
		return false
	}
	if minChrome <= 0 {
		return true
	}
	m := chromeMajor.FindStringSubmatch(ua)
	if m == nil {
		return true
	}
	major, err := strconv.Atoi(m[1])
	return err == nil && major >= minChrome
}
