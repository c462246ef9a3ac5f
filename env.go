package wasend

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// WithEnv applies the settings of e that concern the Client: the send
// timeout from PUPPETEER_DEFAULT_TIMEOUT. Default: not applied.
func WithEnv(e Env) Option {
	return func(c *config) {
		if e.DefaultTimeout > 0 {
			c.sendTimeout = e.DefaultTimeout
		}
	}
}

// Env holds the settings of the REDIS_* and PUPPETEER_* environment
// variables, those of the Puppeteer and Bull services that wasend often
// replaces, so that a team moving from one keeps its .env. Zero fields were not
// set. The sub-packages read the fields that concern them (redisqueue the
// Redis ones, chromedpdriver the Puppeteer ones).
type Env struct {
	// RedisHost, RedisPort, RedisPassword and RedisDB come from REDIS_HOST,
	// REDIS_PORT, REDIS_PASSWORD and REDIS_DB. RedisDB is -1 when unset.
	RedisHost     string
	RedisPort     int
	RedisPassword string
	RedisDB       int
	// Headless comes from PUPPETEER_HEADLESS; nil when unset.
	Headless *bool
	// WhatsAppURL comes from PUPPETEER_WHATSAPP_URL.
	WhatsAppURL string
	// DefaultTimeout and NavigationTimeout come from
	// PUPPETEER_DEFAULT_TIMEOUT and PUPPETEER_NAVIGATION_TIMEOUT, which are
	// in milliseconds.
	DefaultTimeout    time.Duration
	NavigationTimeout time.Duration
}

// RedisAddr returns "host:port" from RedisHost and RedisPort, with the
// defaults localhost and 6379 for the parts that are unset, or "" when both
// are unset.
func (e Env) RedisAddr() string {
	if e.RedisHost == "" && e.RedisPort == 0 {
		return ""
	}
	host, port := e.RedisHost, e.RedisPort
	if host == "" {
		host = "localhost"
	}
	if port == 0 {
		port = 6379
	}
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

// LoadEnv reads the REDIS_* and PUPPETEER_* variables (see Env) from the process
// environment. See EnvFrom.
func LoadEnv() (Env, error) { return EnvFrom(os.Getenv) }

// EnvFrom reads the environment variables of Env through getenv: REDIS_HOST,
// REDIS_PORT, REDIS_PASSWORD, REDIS_DB, PUPPETEER_HEADLESS,
// PUPPETEER_WHATSAPP_URL, PUPPETEER_DEFAULT_TIMEOUT and
// PUPPETEER_NAVIGATION_TIMEOUT. A value that cannot be parsed gives an error
// wrapping ErrInvalidEnv that names the variable.
func EnvFrom(getenv func(string) string) (Env, error) {
	e := Env{RedisDB: -1}
	bad := func(name, val string) error {
		return fmt.Errorf("%w: %s=%q", ErrInvalidEnv, name, val)
	}
	e.RedisHost = strings.TrimSpace(getenv("REDIS_HOST"))
	e.RedisPassword = getenv("REDIS_PASSWORD")
	e.WhatsAppURL = strings.TrimSpace(getenv("PUPPETEER_WHATSAPP_URL"))
	if v := strings.TrimSpace(getenv("REDIS_PORT")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 65535 {
			return Env{}, bad("REDIS_PORT", v)
		}
		e.RedisPort = n
	}
	if v := strings.TrimSpace(getenv("REDIS_DB")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return Env{}, bad("REDIS_DB", v)
		}
		e.RedisDB = n
	}
	if v := strings.TrimSpace(getenv("PUPPETEER_HEADLESS")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			// Puppeteer also accepts "new" and "shell" for headless modes.
			switch strings.ToLower(v) {
			case "new", "shell":
				b, err = true, nil
			default:
				return Env{}, bad("PUPPETEER_HEADLESS", v)
			}
		}
		e.Headless = &b
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{
		{"PUPPETEER_DEFAULT_TIMEOUT", &e.DefaultTimeout},
		{"PUPPETEER_NAVIGATION_TIMEOUT", &e.NavigationTimeout},
	} {
		if v := strings.TrimSpace(getenv(d.name)); v != "" {
			ms, err := strconv.ParseInt(v, 10, 64)
			if err != nil || ms < 0 {
				return Env{}, bad(d.name, v)
			}
			*d.dst = time.Duration(ms) * time.Millisecond
		}
	}
	return e, nil
}
