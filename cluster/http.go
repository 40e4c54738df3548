package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/server"
)

// ForwardedHeader names the node that forwarded a request to the leader; a
// node that receives a forwarded request and does not lead answers 503
// instead of forwarding it again.
const ForwardedHeader = "X-Klaxon-Forwarded"

// StatusPath is the API path of the cluster's status, answered by every
// node itself.
const StatusPath = "/api/v1/cluster"

// retryAfter is the Retry-After, in seconds, of a 503 during an election.
const retryAfter = 1

// Forwarder sends the requests a follower receives to the leader.
type Forwarder struct {
	node  *Node
	proxy *httputil.ReverseProxy
	log   *zap.Logger
}

// NewForwarder returns the forwarder of n's requests; tlsConfig, if not nil,
// is the client side of https API URLs between nodes.
func NewForwarder(n *Node, tlsConfig *tls.Config) *Forwarder {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = time.Minute
	if tlsConfig != nil {
		tr.TLSClientConfig = tlsConfig.Clone()
	}
	f := &Forwarder{node: n, log: n.log.Named("forward")}
	f.proxy = &httputil.ReverseProxy{
		Rewrite:      f.rewrite,
		Transport:    tr,
		ErrorHandler: f.failed,
	}
	return f
}

// Handle is gin middleware: on the leader it lets the request through
// (reads once leadership is confirmed, so they are never stale); on a
// follower it forwards the request, credentials and body included, to the
// leader; with no leader, or a forwarded request reaching a follower, it
// answers 503 with Retry-After. GET StatusPath is always answered here.
func (f *Forwarder) Handle(c *gin.Context) {
	r := c.Request
	if r.URL.Path == StatusPath && r.Method == http.MethodGet {
		c.Next()
		return
	}
	n := f.node
	if n.IsLeader() {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			if err := n.VerifyLeader(r.Context()); err != nil {
				unavailable(c, "no quorum: leadership not confirmed")
				return
			}
		}
		c.Next()
		return
	}
	if from := r.Header.Get(ForwardedHeader); from != "" {
		unavailable(c, fmt.Sprintf("no leader: %s forwarded this request here, and this node does not lead", from))
		return
	}
	id, apiURL := n.Leader()
	if id == "" || apiURL == "" {
		unavailable(c, "no leader: election in progress")
		return
	}
	target, err := url.Parse(apiURL)
	if err != nil {
		unavailable(c, fmt.Sprintf("leader %s has an unusable API URL", id))
		return
	}
	c.Abort()
	clear(c.Writer.Header()) // the leader's middleware sets its own
	r = r.WithContext(withTarget(r.Context(), target))
	f.proxy.ServeHTTP(c.Writer, r)
}

// rewrite points the outgoing request at the leader and marks it forwarded.
func (f *Forwarder) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(targetOf(pr.In.Context()))
	pr.Out.Host = pr.Out.URL.Host
	pr.Out.Header.Set(ForwardedHeader, f.node.NodeID())
}

// failed answers 503 when the leader cannot be reached.
func (f *Forwarder) failed(w http.ResponseWriter, r *http.Request, err error) {
	f.log.Warn("forwarding to the leader failed", zap.String("path", r.URL.Path), zap.Error(err))
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"error":"no leader: the leader could not be reached; retry later"}` + "\n"))
}

// unavailable answers 503 with Retry-After and why.
func unavailable(c *gin.Context, why string) {
	c.Header("Retry-After", strconv.Itoa(retryAfter))
	server.Fail(c, http.StatusServiceUnavailable, why)
}

// StatusHandler answers GET StatusPath with this node's Status.
func (n *Node) StatusHandler(c *gin.Context) {
	c.JSON(http.StatusOK, n.Status())
}

// JoinRequest is the body of POST StatusPath/join.
type JoinRequest struct {
	ID          string `json:"id"`
	RaftAddress string `json:"raft_address"`
	APIURL      string `json:"api_url"`
}

// JoinHandler answers POST StatusPath/join on the leader: the node joins as a voter.
func (n *Node) JoinHandler(c *gin.Context) {
	var req JoinRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		server.Fail(c, http.StatusBadRequest, "want {\"id\", \"raft_address\", \"api_url\"}: "+err.Error())
		return
	}
	if req.APIURL != "" {
		if u, err := url.Parse(req.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			server.Fail(c, http.StatusBadRequest, "api_url: want an absolute http(s) URL")
			return
		}
	}
	n.answer(c, n.Join(c.Request.Context(), Peer(req)))
}

// RemoveRequest is the body of POST StatusPath/remove.
type RemoveRequest struct {
	ID string `json:"id"`
}

// RemoveHandler answers POST StatusPath/remove on the leader: the node leaves the cluster.
func (n *Node) RemoveHandler(c *gin.Context) {
	var req RemoveRequest
	if err := c.ShouldBindJSON(&req); err != nil || req.ID == "" {
		server.Fail(c, http.StatusBadRequest, "want {\"id\"}")
		return
	}
	n.answer(c, n.Remove(c.Request.Context(), req.ID))
}

// answer writes the outcome of a membership change.
func (n *Node) answer(c *gin.Context, err error) {
	if err == nil {
		c.JSON(http.StatusOK, n.Status())
		return
	}
	if server.FailRetryable(c, err) {
		return
	}
	server.Fail(c, http.StatusBadRequest, err.Error())
}

// LoadTLS builds mutual TLS between nodes from PEM files: this node's
// certificate and key, and the CA that signs every node's certificate.
func LoadTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("cluster tls: %w", err)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("cluster tls: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("cluster tls: " + caFile + " holds no PEM certificate")
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS13,
	}, nil
}

// targetKey keys the leader's URL in a forwarded request's context.
type targetKey struct{}

func withTarget(ctx context.Context, u *url.URL) context.Context {
	return context.WithValue(ctx, targetKey{}, u)
}

func targetOf(ctx context.Context) *url.URL {
	u, _ := ctx.Value(targetKey{}).(*url.URL)
	return u
}
