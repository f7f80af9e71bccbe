"""What a health check's path and method may hold: safe on the wire and in haproxy.cfg."""

from __future__ import annotations

import re

CHECK_PATH = re.compile(r"^/[A-Za-z0-9._~!$&()*+,;=:@%/?-]*$")
HTTP_METHOD = re.compile(r"^[A-Z]{1,16}$")
