"""Where the eID applet keeps its files: paths from the MF (3F00), none needs a PIN."""

FilePath = tuple[int, ...]

MF = 0x3F00
ID_DIRECTORY = 0xDF01
CERTIFICATE_DIRECTORY = 0xDF00

IDENTITY_FILE: FilePath = (ID_DIRECTORY, 0x4031)
IDENTITY_SIGNATURE: FilePath = (ID_DIRECTORY, 0x4032)  # by the national register
ADDRESS_FILE: FilePath = (ID_DIRECTORY, 0x4033)
ADDRESS_SIGNATURE: FilePath = (ID_DIRECTORY, 0x4034)  # over the address and the identity signature
PHOTO_FILE: FilePath = (ID_DIRECTORY, 0x4035)  # JPEG, about 3 KB
AUTHENTICATION_CERTIFICATE: FilePath = (CERTIFICATE_DIRECTORY, 0x5038)
SIGNING_CERTIFICATE: FilePath = (CERTIFICATE_DIRECTORY, 0x5039)
ROOT_CERTIFICATE: FilePath = (CERTIFICATE_DIRECTORY, 0x503B)  # never trusted: a card brings its own
REGISTER_CERTIFICATE: FilePath = (CERTIFICATE_DIRECTORY, 0x503C)  # the national register's (RRN)
