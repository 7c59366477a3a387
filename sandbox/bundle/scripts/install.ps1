# Install prompt-sandbox from this folder with no network, then start it (Windows PowerShell).
#   .\install.ps1              check every file, install, prepare the models, start http://127.0.0.1:8501
#   .\install.ps1 --no-start   install only; start it later with .\start.ps1
Set-Location -Path $PSScriptRoot
if (Get-Command py -ErrorAction SilentlyContinue) { & py -@PYTHON@ install.py @args }
elseif (Get-Command python -ErrorAction SilentlyContinue) { & python install.py @args }
else { Write-Error "Python @PYTHON@ is not installed on this computer; install it first (python.org, 64-bit)."; exit 2 }
exit $LASTEXITCODE
