#pragma once

#include <string>

namespace capanode {

/**
 * sd_notify(3) without libsystemd: sends `state` ("READY=1", "STOPPING=1",
 * "WATCHDOG=1", ...) as one datagram to $NOTIFY_SOCKET, a filesystem path or
 * an abstract socket ("@name"). Returns false, doing nothing, when the
 * variable is unset (not under systemd) or the datagram cannot be sent.
 */
bool sdNotify(const std::string& state);

}  // namespace capanode
