"""What the end-to-end tests' HTTP servers share: they listen on 127.0.0.1 only, write the port
they listen on to PORTFILE once they accept connections (atomically: a test polls for the file),
append what they were sent to OUT under one lock, and answer 200 "ok" without logging."""
import http.server
import os
import threading

lock = threading.Lock()


class QuietHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def read_body(self):
        length = int(self.headers.get("Content-Length", 0) or 0)
        return self.rfile.read(length) if length else b""

    def record(self, out, data):
        with lock, open(out, "ab") as f:
            f.write(data)

    def answer_ok(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


def serve(handler, portfile):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, portfile)
    server.serve_forever()
