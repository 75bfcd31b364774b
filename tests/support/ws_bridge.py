#!/usr/bin/env python3
"""An independent MQTT-over-WebSocket endpoint for the clients' e2e tests: Debian's
python3-websockets (an RFC 6455 implementation no one here wrote) in front of a TCP broker.

usage: ws_bridge.py BROKER_PORT [--path /mqtt] [--certfile F --keyfile K]
Binds 127.0.0.1 on a free port, prints "port N" on stdout, then relays each WebSocket
connection's binary messages to a new TCP connection to 127.0.0.1:BROKER_PORT and back.
Ends on SIGTERM. Refuses other paths with HTTP 404 and requires the 'mqtt' subprotocol."""
import argparse
import asyncio
import http
import signal
import ssl
import sys

import websockets


async def relay(websocket, broker_port):
    reader, writer = await asyncio.open_connection("127.0.0.1", broker_port)

    async def ws_to_tcp():
        try:
            async for message in websocket:
                if isinstance(message, str):
                    await websocket.close(1003, "MQTT needs binary frames")
                    return
                writer.write(message)
                await writer.drain()
        finally:
            writer.close()

    async def tcp_to_ws():
        while True:
            data = await reader.read(65536)
            if not data:
                await websocket.close(1000, "broker closed")
                return
            await websocket.send(data)

    done, pending = await asyncio.wait(
        [asyncio.ensure_future(ws_to_tcp()), asyncio.ensure_future(tcp_to_ws())],
        return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("broker_port", type=int)
    parser.add_argument("--path", default="/mqtt")
    parser.add_argument("--certfile")
    parser.add_argument("--keyfile")
    args = parser.parse_args()

    async def check_path(path, headers):
        if path != args.path:
            return http.HTTPStatus.NOT_FOUND, [], b"no such endpoint\n"
        return None

    async def handler(websocket, path=None):
        if websocket.subprotocol != "mqtt":
            await websocket.close(1002, "subprotocol mqtt required")
            return
        await relay(websocket, args.broker_port)

    tls = None
    if args.certfile:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.certfile, args.keyfile)
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with websockets.serve(handler, "127.0.0.1", 0, subprotocols=["mqtt"], process_request=check_path,
                                ssl=tls, max_size=None, ping_interval=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"port {port}", flush=True)
        await stop


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
