package chromeflags

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestBrowser(t *testing.T) {
	extra := []Flag{{"proxy-server", "http://127.0.0.1:3128"}, {"disable-something", true}}
	root := Args(Browser(true, "UA/1", "/profiles/a", true, extra...))
	user := Args(Browser(false, "UA/1", "", false))

	assert.Contains(t, root, "--headless")
	assert.Contains(t, root, "--no-sandbox", "as root")
	assert.Contains(t, root, "--user-data-dir=/profiles/a")
	assert.Contains(t, root, "--user-agent=UA/1")
	assert.Equal(t, []string{"--proxy-server=http://127.0.0.1:3128", "--disable-something"}, root[len(root)-2:], "extra flags last")

	for _, a := range user {
		assert.NotContains(t, []string{"--headless", "--hide-scrollbars", "--no-sandbox", "--enable-automation"}, a)
		assert.NotContains(t, a, "user-data-dir", "a temporary profile")
	}
}

func TestAllocator(t *testing.T) {
	flags := Browser(true, "UA/1", "", false)
	assert.Len(t, Allocator("/usr/bin/chromium", flags), len(flags)+1, "the program, then one option per flag")
}
