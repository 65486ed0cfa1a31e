package iggy

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultPort is Iggy's TCP port.
const DefaultPort = "8090"

// ParseURL reads a connection string into a Config:
//
//	iggy://user:password@host:port?option=value&...
//	iggy+tls://user:password@host:port?tls_ca=ca.pem&tls_server_name=iggy.local
//	iggy://host:port?pat=TOKEN
//	host:port
//
// The port defaults to 8090. Options: pat (personal access token; used
// instead of user and password), tls_ca (PEM file of CAs to trust),
// tls_server_name (name to verify, default the host), tls_skip_verify
// (true/false: do not verify the certificate — testing only), dial_timeout,
// timeout (per request), ping (keepalive interval, 0 to disable), retries
// (reconnect attempts per call), retry_sends (true: resend a batch whose
// reply was lost; use only with deduplicating ids). Durations use Go syntax
// (5s, 250ms). User and password are URL-escaped as usual.
func ParseURL(s string) (Config, error) {
	var cfg Config
	if !strings.Contains(s, "://") {
		if _, _, err := net.SplitHostPort(s); err != nil {
			s = net.JoinHostPort(s, DefaultPort)
		}
		cfg.Addr = s
		return cfg, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return cfg, fmt.Errorf("iggy connection string: %w", err)
	}
	useTLS := false
	switch u.Scheme {
	case "iggy", "tcp":
	case "iggy+tls", "tls", "iggys":
		useTLS = true
	default:
		return cfg, fmt.Errorf("iggy connection string: scheme %q is not iggy:// or iggy+tls://", u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return cfg, fmt.Errorf("iggy connection string %q: no host", redact(u))
	}
	port := u.Port()
	if port == "" {
		port = DefaultPort
	}
	cfg.Addr = net.JoinHostPort(host, port)
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	q := u.Query()
	var tlsCA, tlsName string
	var skip bool
	for k, vs := range q {
		v := vs[len(vs)-1]
		var err error
		switch k {
		case "pat", "token":
			cfg.Token = v
		case "tls_ca", "ca":
			tlsCA = v
		case "tls_server_name", "server_name":
			tlsName = v
		case "tls_skip_verify", "insecure":
			skip, err = strconv.ParseBool(v)
		case "dial_timeout":
			cfg.DialTimeout, err = time.ParseDuration(v)
		case "timeout":
			cfg.RequestTimeout, err = time.ParseDuration(v)
		case "ping":
			cfg.PingInterval, err = time.ParseDuration(v)
			if err == nil && cfg.PingInterval == 0 {
				cfg.PingInterval = -1
			}
		case "retries":
			cfg.MaxRetries, err = strconv.Atoi(v)
		case "retry_sends":
			cfg.RetrySends, err = strconv.ParseBool(v)
		default:
			return cfg, fmt.Errorf("iggy connection string: unknown option %q", k)
		}
		if err != nil {
			return cfg, fmt.Errorf("iggy connection string: option %s=%q: %w", k, v, err)
		}
	}
	if !useTLS && (tlsCA != "" || tlsName != "" || skip) {
		return cfg, fmt.Errorf("iggy connection string: TLS options need the iggy+tls:// scheme")
	}
	if useTLS {
		tc, err := TLSConfig(tlsCA, tlsName, skip)
		if err != nil {
			return cfg, err
		}
		if tc.ServerName == "" {
			tc.ServerName = host
		}
		cfg.TLS = tc
	}
	return cfg, nil
}

// TLSConfig builds a client TLS config: caFile (PEM, optional) replaces the
// system roots, serverName overrides the name checked, skipVerify turns off
// verification.
func TLSConfig(caFile, serverName string, skipVerify bool) (*tls.Config, error) {
	tc := &tls.Config{ServerName: serverName, InsecureSkipVerify: skipVerify, MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("reading TLS CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS CA file %s: no PEM certificates", caFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// redact hides the password of u for messages.
func redact(u *url.URL) string { return u.Redacted() }

func itoa(n int) string { return strconv.Itoa(n) }
