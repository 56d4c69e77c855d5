"""TLS for every connection of the bus: the project's own small PKI (:mod:`.pki`), client and
server SSL contexts that fail with one line naming the file or setting to fix
(:mod:`.context`), and the diagnosis of a failed handshake (:mod:`.diagnose`)."""
