// Log Analytics (container logs of the environment) and workspace-based Application Insights (Functions telemetry),
// the latter with local authentication off: it takes telemetry only from a Microsoft Entra identity that holds
// Monitoring Metrics Publisher on it (the app's), so the instrumentation key in the connection string is no credential.

param logAnalyticsName string
param applicationInsightsName string
param location string
param tags object = {}

@description('Principal id of the identity that sends telemetry (the Function app\'s user-assigned identity).')
param publisherPrincipalId string

// Built-in role definition id of Monitoring Metrics Publisher: despite its name it publishes all telemetry
// ("Microsoft Entra authentication for Application Insights").
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    DisableLocalAuth: true
  }
}

resource publisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: applicationInsights
  name: guid(applicationInsights.id, publisherPrincipalId, monitoringMetricsPublisher)
  properties: {
    principalId: publisherPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
  }
}

output logAnalyticsName string = logAnalytics.name
output applicationInsightsName string = applicationInsights.name
