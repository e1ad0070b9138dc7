"""电子证照 E-licences in the portal: my licences with QR codes, public verification, reuse as material."""
