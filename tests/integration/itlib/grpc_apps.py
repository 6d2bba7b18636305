"""Test-side handles for the gRPC server and client processes (apps/grpc_*.py, python3-grpcio)."""

from .procs import CommandedProc, python_app

GRPC_SERVER_COMM = "it-grpcd"
GRPC_CLIENT_COMM = "it-grpc-client"
SERVICE = "demo.Echo"


class GrpcServer:
    """apps/grpc_server.py in its own process; .pid, .host, .port."""

    def __init__(self, host="127.0.0.1", hpack_table=None):
        """hpack_table: SETTINGS_HEADER_TABLE_SIZE of the server's decoder (None: grpcio's 4096)."""
        self.host = host
        extra = [] if hpack_table is None else ["--hpack-table", str(hpack_table)]
        self.proc = python_app("grpc_server.py", "--host", host, "--comm", GRPC_SERVER_COMM, *extra,
                               name=f"grpc_server[{host}]")
        self.pid = self.proc.pid
        line = self.proc.readline()
        if not line.startswith("listening "):
            raise AssertionError(f"grpc_server printed {line!r} instead of 'listening <port>'")
        self.port = int(line.split()[1])

    def stop(self):
        self.proc.stop()


def call(kind, method, *requests):
    """One CALL for GrpcClient.calls(): kind unary|server_stream|client_stream|bidi|cancel."""
    return {"type": kind, "method": f"/{SERVICE}/{method}", "requests": list(requests)}


class GrpcClient(CommandedProc):
    """apps/grpc_client.py: one channel, calls only when told to."""

    def __init__(self):
        super().__init__(python_app("grpc_client.py", "--comm", GRPC_CLIENT_COMM, name="grpc_client"), "ready")

    def connect(self, host, port, hpack_table=None):
        """Open the channel and wait until its connection is up (HTTP/2 preface and SETTINGS done).

        hpack_table: SETTINGS_HEADER_TABLE_SIZE of the client's decoder (None: grpcio's 4096).
        """
        self._call(op="connect", host=host, port=port, hpack_table=hpack_table)

    def calls(self, calls, concurrent=False):
        """Run calls (see call()); returns [{"code", "details", "responses"}] in the same order."""
        return self._call(op="calls", calls=calls, concurrent=concurrent)["results"]

    def close(self):
        self._call(op="close")

