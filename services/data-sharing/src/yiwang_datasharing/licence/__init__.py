"""电子证照库 E-licence library: licences issued by the business systems, registered once each."""
