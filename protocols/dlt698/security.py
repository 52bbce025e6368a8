"""SECURITY-Request/Response (安全传输) and a pluggable security backend.

SECURITY-Request: data CHOICE {0 plaintext, 1 ciphertext} (octet-string of an APDU), then the
verification CHOICE {0 SID_MAC, 1 RN, 2 RN_MAC, 3 SID}; SECURITY-Response: CHOICE {0 plaintext,
1 ciphertext, 2 DAR}, then an optional verification CHOICE {0 MAC}. Read from a public HPLC test
bench's reference frame (``10 00 08 05 01 7D 00 10 02 01 00 01 10`` + 16-byte RN) and a public
meter firmware's SID_MAC example (``... 00 85 01 02 03 06 12 34 56 78 90 12 04 12 34 56 78``).

Real meters compute MACs and ciphertext in an ESAM with SM4 keys this project never has, so
interoperable security cannot be simulated; ``TestKeyBackend`` is a stand-in for tests and
simulation only (SHA-256 based, not the standard's algorithms, not confidential).
"""
from protocols.errors import hexstr
from protocols.dlt698 import const as K
from protocols.dlt698.apdu import Apdu
from protocols.dlt698.axdr import put_length, put_uint
from protocols.dlt698.errors import DecodeError, EncodeError

PLAIN = 0
CIPHER = 1
V_SID_MAC = 0
V_RN = 1
V_RN_MAC = 2
V_SID = 3
VERIFY_NAMES = {0: "SID_MAC", 1: "RN", 2: "RN_MAC", 3: "SID"}


def _put_octets(out, b):
    put_length(out, len(b))
    out += b


def _get_octets(r, field):
    return r.take(r.length(field), field)


class Sid:
    """安全标识 SID: a 4-byte identifier and its additional data."""

    def __init__(self, ident, extra=b""):
        self.ident = ident
        self.extra = bytes(extra)

    def __eq__(self, other):
        return isinstance(other, Sid) and self.ident == other.ident and self.extra == other.extra

    def __repr__(self):
        return "Sid(%08X, %s)" % (self.ident, hexstr(self.extra))


class SecurityRequest(Apdu):
    """``content`` is the inner APDU (plaintext) or its ciphertext; ``verify`` is the
    verification choice and ``sid``/``rn``/``mac`` its parts."""
    tag, trailer = K.SECURITY_REQUEST, ""

    def __init__(self, content, ciphered=False, verify=V_RN, rn=b"", mac=b"", sid=None):
        self.content, self.ciphered, self.verify = bytes(content), ciphered, verify
        self.rn, self.mac, self.sid = bytes(rn), bytes(mac), sid

    def encode(self):
        out = bytearray((self.tag, CIPHER if self.ciphered else PLAIN))
        _put_octets(out, self.content)
        put_uint(out, self.verify, 1, "verification")
        if self.verify in (V_SID_MAC, V_SID):
            if self.sid is None:
                raise EncodeError("SID", "verification %s needs a SID" % VERIFY_NAMES[self.verify])
            put_uint(out, self.sid.ident, 4, "SID")
            _put_octets(out, self.sid.extra)
        elif self.verify in (V_RN, V_RN_MAC):
            _put_octets(out, self.rn)
        else:
            raise EncodeError("verification", "choice %r" % (self.verify,))
        if self.verify in (V_SID_MAC, V_RN_MAC):
            _put_octets(out, self.mac)
        return bytes(out)

    @classmethod
    def get_body(cls, r):
        choice = r.u8("SECURITY-Request data")
        if choice > 1:
            raise DecodeError("SECURITY-Request", "data choice %d" % choice, bytes([choice]), 1)
        content = _get_octets(r, "security data")
        verify = r.u8("verification")
        sid, rn, mac = None, b"", b""
        if verify in (V_SID_MAC, V_SID):
            sid = Sid(r.uint(4, "SID"), _get_octets(r, "SID data"))
        elif verify in (V_RN, V_RN_MAC):
            rn = _get_octets(r, "RN")
        else:
            raise DecodeError("verification", "choice %d" % verify, bytes([verify]), r.pos - 1)
        if verify in (V_SID_MAC, V_RN_MAC):
            mac = _get_octets(r, "MAC")
        return cls(content, choice == CIPHER, verify, rn, mac, sid)


class SecurityResponse(Apdu):
    """``content`` is the inner APDU (plaintext) or ciphertext, or ``dar`` an error; ``mac``
    (may be None) the optional data MAC."""
    tag, trailer = K.SECURITY_RESPONSE, ""

    def __init__(self, content=b"", ciphered=False, mac=None, dar=None):
        self.content, self.ciphered, self.mac, self.dar = bytes(content), ciphered, mac, dar

    def encode(self):
        out = bytearray((self.tag,))
        if self.dar is not None:
            out += bytes((2, self.dar))
        else:
            out.append(CIPHER if self.ciphered else PLAIN)
            _put_octets(out, self.content)
        if self.mac is None:
            out.append(0)
        else:
            out += b"\x01\x00"
            _put_octets(out, self.mac)
        return bytes(out)

    @classmethod
    def get_body(cls, r):
        choice = r.u8("SECURITY-Response data")
        if choice == 2:
            msg = cls(dar=r.u8("DAR"))
        elif choice in (PLAIN, CIPHER):
            msg = cls(_get_octets(r, "security data"), choice == CIPHER)
        else:
            raise DecodeError("SECURITY-Response", "data choice %d" % choice, bytes([choice]), 1)
        if r.left and r.u8("verification OPTIONAL"):
            if r.u8("verification") != 0:
                raise DecodeError("verification", "only MAC (0) is defined", r.buf[r.pos - 1:],
                                  r.pos - 1)
            msg.mac = _get_octets(r, "MAC")
        return msg


class SecurityBackend:
    """What an ESAM does for the codec. A client calls ``protect`` and ``open_response``; a
    server ``open_request`` and ``protect_response``. Failures on the server side are DARs
    (returned), on the client side DecodeError (the peer's bytes do not verify)."""

    def protect(self, apdu, ciphered, rn):
        raise NotImplementedError

    def open_request(self, request):
        """-> (inner APDU bytes, None) or (None, DAR)."""
        raise NotImplementedError

    def protect_response(self, apdu, request):
        raise NotImplementedError

    def open_response(self, response, request):
        raise NotImplementedError


class TestKeyBackend(SecurityBackend):
    """TEST ONLY: a keyed SHA-256 stand-in for an ESAM so that sessions, MAC pass/fail,
    ciphertext framing and refusal DARs can be exercised. It is not SM4, not the standard's MAC
    and gives no confidentiality; never use it against a real meter."""

    SID_IDENT = 0x81010203      # arbitrary test identifier

    def __init__(self, key):
        try:
            import hashlib  # type: ignore[import-not-found]
        except ImportError:     # pragma: no cover - MicroPython ports without hashlib
            import uhashlib as hashlib  # type: ignore[import-not-found,no-redef]
        self._sha = hashlib.sha256
        self.key = bytes(key)

    def _digest(self, *parts):
        h = self._sha()
        h.update(self.key)
        for p in parts:
            h.update(bytes((len(p) & 0xFF,)))
            h.update(p)
        return h.digest()

    def mac(self, salt, data):
        return self._digest(b"mac", salt, data)[:4]

    def _xor(self, salt, data):
        out = bytearray()
        block = 0
        while len(out) < len(data):
            out += self._digest(b"stream", salt, bytes((block & 0xFF, block >> 8)))
            block += 1
        return bytes(a ^ b for a, b in zip(data, out))

    def protect(self, apdu, ciphered, rn):
        if not ciphered:
            return SecurityRequest(apdu, False, V_RN, rn=rn)
        sid = Sid(self.SID_IDENT, rn)
        body = self._xor(rn, apdu)
        return SecurityRequest(body, True, V_SID_MAC, mac=self.mac(rn, body), sid=sid)

    def _salt(self, request):
        return request.sid.extra if request.sid is not None else request.rn

    def open_request(self, request):
        if not request.ciphered:
            if request.verify == V_RN_MAC and request.mac != self.mac(request.rn, request.content):
                return None, K.DAR_ESAM_VERIFY_FAILED
            return request.content, None
        if request.verify != V_SID_MAC or request.sid is None:
            return None, K.DAR_SECURITY_MISMATCH
        salt = self._salt(request)
        if request.mac != self.mac(salt, request.content):
            return None, K.DAR_ESAM_VERIFY_FAILED
        return self._xor(salt, request.content), None

    def protect_response(self, apdu, request):
        salt = self._salt(request)
        if request.ciphered:
            body = self._xor(salt, apdu)
            return SecurityResponse(body, True, self.mac(salt, body))
        return SecurityResponse(apdu, False, self.mac(salt, apdu))

    def open_response(self, response, request):
        if response.dar is not None:
            return None
        salt = self._salt(request)
        if response.mac is None:               # a reply nobody can vouch for is no reply
            raise DecodeError("MAC", "the secured reply carries no MAC", b"")
        if response.mac != self.mac(salt, response.content):
            raise DecodeError("MAC", "response MAC does not verify", response.mac)
        return self._xor(salt, response.content) if response.ciphered else response.content
