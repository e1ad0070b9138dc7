"""我的 My space: profile, my cases, my materials, my licences, my agents — API and pages."""
