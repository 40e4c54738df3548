package cluster

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/journal"
)

// testCA signs node certificates for 127.0.0.1.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// nodeTLS writes a node certificate signed by ca, its key and the CA to
// dir and loads them with LoadTLS.
func (ca *testCA) nodeTLS(t *testing.T, dir string) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "node"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"node.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"node.key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		"ca.crt":   ca.pem,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := LoadTLS(filepath.Join(dir, "node.crt"), filepath.Join(dir, "node.key"), filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestReplicatesOverMutualTLS(t *testing.T) {
	ca := newTestCA(t)
	nodes, fsms := tcpCluster(t, func(o *Options) { o.TLS = ca.nodeTLS(t, t.TempDir()) })
	l := tcpLeader(t, nodes)
	rec, _, err := l.Append(context.Background(), []byte("over tls"), nil)
	if err != nil {
		t.Fatal(err)
	}
	until(t, "every node applies the record", func() bool {
		for _, n := range nodes {
			if n.LastSeq() < rec.Seq {
				return false
			}
		}
		return true
	})
	for i, f := range fsms {
		if m := missing(f, []journal.Record{rec}); len(m) > 0 {
			t.Errorf("node %d lacks the record", i)
		}
	}

	// A client whose certificate another CA signed is refused: with TLS
	// 1.3 the server's alert arrives on the first read. (A timeout would
	// mean it was let in.)
	stranger := newTestCA(t).nodeTLS(t, t.TempDir())
	stranger.InsecureSkipVerify = true // only the server's check is under test
	conn, err := tls.Dial("tcp", string(l.transport.LocalAddr()), stranger)
	if err == nil {
		_ = conn.SetReadDeadline(time.Now().Add(waitFor))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	if ne, ok := err.(net.Error); err == nil || ok && ne.Timeout() {
		t.Errorf("a node certificate from another CA was let in: %v", err)
	}
}

func TestLoadTLSRefusesHalfConfigurations(t *testing.T) {
	dir := t.TempDir()
	newTestCA(t).nodeTLS(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "empty.crt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, cert, key, ca string }{
		{"missing key", "node.crt", "nope.key", "ca.crt"},
		{"missing CA", "node.crt", "node.key", "nope.crt"},
		{"CA file without certificates", "node.crt", "node.key", "empty.crt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := LoadTLS(filepath.Join(dir, tc.cert), filepath.Join(dir, tc.key), filepath.Join(dir, tc.ca)); err == nil {
				t.Errorf("LoadTLS succeeded")
			}
		})
	}
}
